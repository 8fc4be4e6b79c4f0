// Writing to a connection the peer has closed raises SIGPIPE, whose default
// action kills the process; OpenSSL writes with plain write(2), so a server
// that drops a kept-alive TLS connection could take a controller, or a
// ferryctl pull, down. A library must not change the process's signal
// dispositions, so instead each exchange blocks SIGPIPE in its own thread for
// its duration (the write then fails with EPIPE, which is handled as a broken
// connection) and consumes a SIGPIPE it caused before unblocking, the way
// libpq does. Used by every HTTP client in lib/ (lib/fetch, lib/kube).
#pragma once

#include <signal.h>

namespace ferry {

class SigpipeGuard {
 public:
  SigpipeGuard();
  ~SigpipeGuard();
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t old_mask_;
  bool was_pending_ = false;  // a SIGPIPE that was not ours stays pending
};

}  // namespace ferry
