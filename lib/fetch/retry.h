// Bounded retries with exponential backoff and jitter, for requests that fail
// transiently. What is bounded is the number of attempts in a row that moved
// nothing: an attempt that got a download further than ever before (by at
// least a low-speed window's worth, see HttpSource) resets the count and the
// backoff, so a flaky link that keeps making progress still finishes a large
// file, while a server that keeps failing, or moves a few bytes per
// connection, is given up on.
#pragma once

#include <chrono>
#include <functional>
#include <stop_token>

#include "lib/common/result.h"
#include "lib/fetch/source.h"

namespace ferry::fetch {

// What one attempt came to.
struct Attempt {
  Status status;
  bool transient = false;                    // another attempt may succeed
  bool made_progress = false;                // it got further than any attempt before
  std::chrono::milliseconds retry_after{0};  // the server's Retry-After, 0 if none
};

// Runs `attempt` until it succeeds, fails for good, or options.max_attempts
// transient failures in a row moved nothing; the last error is returned, saying
// how many attempts were made. A triggered `stop` ends the wait between
// attempts at once, as kCancelled.
Status RunWithRetries(const FetchOptions& options, const std::function<Attempt()>& attempt,
                      const std::stop_token& stop = {});

}  // namespace ferry::fetch
