// The overall progress of one long operation (a pull), fed by any number of
// concurrent transfers. On a terminal it redraws a single bar line on stderr;
// anywhere else (a pod's log, CI, a pipe) it writes ordinary log records, few
// enough to read: one each time another tenth of the total is done, otherwise
// at most one every five seconds, and a last one from Finish. Thread-safe.
//
// It is also how a long operation is observed and stopped from outside: an
// optional callback sees the running total, and transfers stop (kCancelled)
// once the stop token they find here is triggered.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>

namespace ferry::fetch {

struct ProgressHooks {
  // Checked by the transfers feeding this Progress between blocks of data and
  // between retries.
  std::stop_token stop;
  // Called after each Add with the bytes done so far, outside the lock, from
  // whichever transfer thread added them: keep it cheap.
  std::function<void(uint64_t done)> on_add;
};

class Progress {
 public:
  // Reports on stderr: a bar when stderr is a terminal and !force_plain, text
  // log records otherwise.
  Progress(std::string label, uint64_t total_bytes, bool force_plain = false);
  // Reports as records through `log` (for instance the agent's JSON logger);
  // a null `log` draws the bar on stderr.
  Progress(std::string label, uint64_t total_bytes, std::shared_ptr<spdlog::logger> log,
           ProgressHooks hooks = {});
  ~Progress();  // calls Finish()
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Add(uint64_t bytes);
  // Bytes added so far.
  uint64_t done() const;
  const std::stop_token& stop_token() const { return hooks_.stop; }
  bool stop_requested() const { return hooks_.stop.stop_requested(); }
  // Reports where the operation ended (not necessarily at 100%) and stops
  // reporting. Later calls do nothing.
  void Finish();

 private:
  // What to say now: a bar line or a record. Called with mutex_ held.
  void Report(bool final);

  const std::string label_;
  const uint64_t total_;
  const std::shared_ptr<spdlog::logger> log_;  // null when drawing a bar
  const ProgressHooks hooks_;
  const std::chrono::steady_clock::time_point start_;
  mutable std::mutex mutex_;
  uint64_t done_ = 0;
  bool finished_ = false;
  int last_tenth_ = 0;
  std::chrono::steady_clock::time_point last_report_;
};

}  // namespace ferry::fetch
