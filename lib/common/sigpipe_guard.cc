#include "lib/common/sigpipe_guard.h"

#include <pthread.h>

#include <ctime>

namespace ferry {
namespace {

sigset_t OnlySigpipe() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  return set;
}

bool SigpipePending() {
  sigset_t pending;
  sigpending(&pending);
  return sigismember(&pending, SIGPIPE) == 1;
}

}  // namespace

SigpipeGuard::SigpipeGuard() {
  const sigset_t sigpipe = OnlySigpipe();
  pthread_sigmask(SIG_BLOCK, &sigpipe, &old_mask_);
  was_pending_ = SigpipePending();
}

SigpipeGuard::~SigpipeGuard() {
  if (!was_pending_ && SigpipePending()) {
    const sigset_t sigpipe = OnlySigpipe();
    const timespec no_wait{0, 0};
    sigtimedwait(&sigpipe, nullptr, &no_wait);
  }
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

}  // namespace ferry
