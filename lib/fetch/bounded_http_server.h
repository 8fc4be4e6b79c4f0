// An httplib::Server that bounds what any one client can hold, for a server
// that many nodes reach and some may reach slowly or with malice. httplib
// 0.11.4 gives each connection one thread of a fixed pool (8 on a small
// machine) from accept to close, and bounds only each recv(), so eight clients
// that send a header line every few seconds (slowloris) stop it answering
// anyone. Here instead:
//  - a connection waits for its request in one epoll loop, costing a file
//    descriptor and the bytes it sent, not a thread; only a request whose
//    header is complete goes to one of `worker_threads` threads;
//  - the header must be complete within header_timeout of the moment the
//    server began waiting for it (408, then close); a connection that sends
//    no byte of a request for idle_timeout is closed;
//  - a response that the client drains not at all for send_timeout, or at
//    fewer than min_send_rate bytes/s over send_rate_window, is cut;
//  - at most max_connections are open, at most max_connections_per_client of
//    them from one address; a connection past either gets 503 and is closed;
//  - httplib's stop() closes every connection, idle or in flight, and joins
//    every thread before it returns.
// Handlers, the logger and the rest of httplib's request handling are used as
// they are. Plain HTTP only.
#pragma once

#include <httplib.h>
#include <spdlog/logger.h>

#include <memory>

#include "lib/common/result.h"
#include "lib/fetch/client_limits.h"

namespace ferry::fetch {

class BoundedHttpServer final : public httplib::Server {
 private:
  struct StartOnly {
    explicit StartOnly() = default;
  };

 public:
  // Starts the engine's threads; handlers are then set as on any
  // httplib::Server, and listening begins with listen_after_bind. Refusals
  // and timeouts are logged to `log` unless it is null. kUnavailable when the
  // process is out of file descriptors.
  static Result<std::unique_ptr<BoundedHttpServer>> Create(const ClientLimits& limits,
                                                           std::shared_ptr<spdlog::logger> log);
  explicit BoundedHttpServer(StartOnly);
  ~BoundedHttpServer() override;
  BoundedHttpServer(const BoundedHttpServer&) = delete;
  BoundedHttpServer& operator=(const BoundedHttpServer&) = delete;

  // httplib listens with a backlog of 5, which a rollout to many nodes at once
  // overflows (their connects then wait for SYN retries). Call once bound,
  // before anything can stop the server (stop() closes the socket).
  void RaiseListenBacklog();

 private:
  class Engine;

  // httplib's accept loop hands each new connection here (through a task
  // queue that runs it at once); the engine takes it over.
  bool process_and_close_socket(socket_t sock) override;

  std::unique_ptr<Engine> engine_;
};

}  // namespace ferry::fetch
