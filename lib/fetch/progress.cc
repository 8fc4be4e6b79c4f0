#include "lib/fetch/progress.h"

#include <spdlog/fmt/fmt.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "lib/common/log.h"

namespace ferry::fetch {
namespace {

// A terminal redraws cheaply; a log is read by people and kept.
constexpr auto kBarInterval = std::chrono::milliseconds(100);
constexpr auto kRecordInterval = std::chrono::seconds(5);
constexpr int kBarWidth = 30;

std::string FormatBytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  size_t unit = 0;
  while (bytes >= 1024 && unit + 1 < std::size(kUnits)) {
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{:.0f} {}", bytes, kUnits[unit])
                   : fmt::format("{:.1f} {}", bytes, kUnits[unit]);
}

}  // namespace

Progress::Progress(std::string label, uint64_t total_bytes, bool force_plain)
    : Progress(std::move(label), total_bytes,
               force_plain || !::isatty(STDERR_FILENO) ? MakeLogger("ferry", LogFormat::kText)
                                                       : nullptr) {}

Progress::Progress(std::string label, uint64_t total_bytes, std::shared_ptr<spdlog::logger> log,
                   ProgressHooks hooks)
    : label_(std::move(label)),
      total_(total_bytes),
      log_(std::move(log)),
      hooks_(std::move(hooks)),
      start_(std::chrono::steady_clock::now()),
      last_report_(start_) {}

Progress::~Progress() { Finish(); }

void Progress::Add(uint64_t bytes) {
  uint64_t done = 0;
  {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    done_ += bytes;
    done = done_;
    Report(false);
  }
  if (hooks_.on_add) hooks_.on_add(done);
}

uint64_t Progress::done() const {
  std::lock_guard lock(mutex_);
  return done_;
}

void Progress::Finish() {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  Report(true);
  finished_ = true;
}

void Progress::Report(bool final) {
  const auto now = std::chrono::steady_clock::now();
  // A transfer that had to start over counts its bytes twice; never show more
  // than the whole.
  const uint64_t shown = std::min(done_, total_);
  const int percent = total_ == 0 ? 100 : static_cast<int>(shown * 100 / total_);
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const std::string summary =
      fmt::format("{}% ({} of {}, {}/s)", percent, FormatBytes(static_cast<double>(shown)),
                  FormatBytes(static_cast<double>(total_)),
                  FormatBytes(seconds > 0 ? static_cast<double>(done_) / seconds : 0));

  if (log_ != nullptr) {
    const int tenth = percent / 10;
    if (!final && tenth <= last_tenth_ && now - last_report_ < kRecordInterval) return;
    last_tenth_ = tenth;
    last_report_ = now;
    if (final) {
      log_->info("{}: {} {} in {:.1f} s", label_, shown == total_ ? "done," : "stopped at", summary,
                 seconds);
    } else {
      log_->info("{}: {}", label_, summary);
    }
    return;
  }

  if (!final && now - last_report_ < kBarInterval) return;
  last_report_ = now;
  const int filled = percent * kBarWidth / 100;
  // "\r" returns to the start of the line and "\x1b[K" clears what a longer
  // previous line left behind.
  std::fprintf(stderr, "\r%s [%s%s] %s\x1b[K%s", label_.c_str(), std::string(filled, '#').c_str(),
               std::string(kBarWidth - filled, '.').c_str(), summary.c_str(), final ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace ferry::fetch
