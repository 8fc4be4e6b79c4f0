#include "agent/gpu_health_command.h"

#include <spdlog/fmt/fmt.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <memory>
#include <set>
#include <thread>

#include "lib/common/cli.h"
#include "lib/common/metrics.h"
#include "lib/common/utc_time.h"
#include "lib/gpu/gpu_metrics.h"
#include "lib/gpu/gpu_reading.h"
#include "lib/gpu/gpu_report.h"
#include "lib/gpu/health_rules.h"
#include "lib/gpu/nvml.h"
#include "lib/gpu/report_json.h"
#include "lib/gpu/report_table.h"
#include "lib/gpu/xid_store.h"
#include "lib/gpu/xid_watcher.h"

namespace ferry::agent {
namespace {

// How often the watch prints what the watcher recorded.
constexpr std::chrono::milliseconds kWatchPrintPeriod{100};

// The threads of this process now, from /proc (-1 if it cannot be read).
long CountThreads() {
  std::error_code error;
  std::filesystem::directory_iterator tasks("/proc/self/task", error);
  if (error) return -1;
  return std::distance(tasks, std::filesystem::directory_iterator());
}

std::string RenderReport(const gpu::NodeGpuReport& report, const GpuHealthOptions& options) {
  if (options.json) return gpu::NodeReportJson(report).dump(2) + "\n";
  if (options.prometheus) {
    MetricsRegistry registry;
    gpu::GpuMetrics metrics(registry);
    metrics.Publish(report);
    return registry.Render();
  }
  return gpu::RenderTable(report);
}

std::string EventLine(const gpu::XidEvent& event, const gpu::HealthRules& rules) {
  return fmt::format("xid {} on gpu {} at {} ({})\n", event.xid,
                     event.gpu_index ? std::to_string(*event.gpu_index) : "?",
                     FormatMicroTime(event.seen_at),
                     rules.application_xids.contains(event.xid) ? "application" : "critical");
}

std::string IndexList(const std::vector<unsigned>& indexes) {
  if (indexes.empty()) return "none";
  std::string list;
  for (unsigned index : indexes) list += (list.empty() ? "" : ",") + std::to_string(index);
  return list;
}

struct ThreadCounts {
  long before = -1;
  long during = -1;
  long after = -1;
};

// The watch's last line: enough to tell, on a real GPU, that no event was
// missed (recorded == printed) and that the watcher's thread went away.
std::string WatchSummary(uint64_t recorded, uint64_t printed, double seconds,
                         const gpu::XidWatcherStatus& status, const ThreadCounts& threads) {
  std::string summary = fmt::format(
      "xid watch: {} events recorded, {} printed in {:.1f} s; GPUs watched {}, unsupported {}; "
      "threads before {}, during {}, after {}",
      recorded, printed, seconds, IndexList(status.watched_gpus),
      IndexList(status.unsupported_gpus), threads.before, threads.during, threads.after);
  if (status.error) summary += "; watcher error: " + *status.error;
  return summary + "\n";
}

bool Write(const std::string& text) {
  return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() &&
         std::fflush(stdout) == 0;
}

// --watch-xid: the watcher for `seconds`, its events as they come, the
// report, and the summary line.
bool Watch(const gpu::Nvml& nvml, const GpuHealthOptions& options, const gpu::HealthRules& rules) {
  bool wrote = true;
  const long threads_before = CountThreads();
  gpu::XidStore store;
  long threads_during = -1;
  uint64_t printed = 0;
  uint64_t last_printed = 0;
  gpu::NodeGpuReport report;
  const auto started = std::chrono::steady_clock::now();
  double watched_for = 0;
  {
    gpu::XidWatcher watcher(nvml, store);
    threads_during = CountThreads();
    const auto deadline = started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                        std::chrono::duration<double>(options.watch_xid_seconds));
    auto print_new = [&] {
      for (const gpu::XidEvent& event : store.EventsAfter(last_printed)) {
        wrote = Write(EventLine(event, rules)) && wrote;
        last_printed = event.sequence;
        ++printed;
      }
    };
    while (std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          kWatchPrintPeriod, deadline - std::chrono::steady_clock::now()));
      print_new();
    }
    watched_for = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    watcher.Stop();
    print_new();
    report = gpu::BuildReport(gpu::ReadNode(nvml), rules, &store, &watcher);
  }
  const long threads_after = CountThreads();
  wrote = Write(RenderReport(report, options)) && wrote;
  return Write(WatchSummary(store.recorded(), printed, watched_for, *report.xid_watcher,
                            {threads_before, threads_during, threads_after})) &&
         wrote;
}

}  // namespace

void AddGpuHealthFlags(CLI::App& command, GpuHealthOptions& options) {
  options.application_xids.assign(gpu::kDefaultApplicationXids.begin(),
                                  gpu::kDefaultApplicationXids.end());
  options.nvml_library = gpu::kNvmlLibraryName;
  command.add_flag("--once", options.once, "check once, print the report and exit");
  CLI::Option* json = command.add_flag("--json", options.json, "print the report as JSON");
  command.add_flag("--prometheus", options.prometheus, "print the report as Prometheus metrics")
      ->excludes(json);
  command
      .add_option("--watch-xid", options.watch_xid_seconds,
                  "watch XID events for SECONDS, printing each, then the report and a summary")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.1, 86400.0));
  command
      .add_option("--application-xids", options.application_xids,
                  "XIDs recorded but not fatal to the GPU (comma-separated)")
      ->delimiter(',')
      ->type_name("XID,...")
      ->capture_default_str();
  command.add_option("--nvml", options.nvml_library, "NVML library to load, a name or a path")
      ->type_name("LIBRARY")
      ->capture_default_str();
}

int RunGpuHealth(const CLI::App& command, const GpuHealthOptions& options) {
  if (!options.once && options.watch_xid_seconds <= 0) {
    std::fprintf(stderr,
                 "ferry-agent %s: say --once (one report) or --watch-xid SECONDS\n"
                 "Run 'ferry-agent %s --help' for usage.\n",
                 command.get_name().c_str(), command.get_name().c_str());
    return kExitUsage;
  }
  gpu::HealthRules rules;
  rules.application_xids =
      std::set<uint64_t>(options.application_xids.begin(), options.application_xids.end());

  Result<std::unique_ptr<gpu::Nvml>> nvml = gpu::Nvml::Open(options.nvml_library);
  bool wrote = true;
  if (!nvml.ok()) {
    // No NVML (no GPUs) or NVML not answering: the report says which; a
    // watch has nothing to watch.
    wrote = Write(
        RenderReport(gpu::BuildReport(gpu::ReadingWithoutNvml(nvml.error()), rules), options));
    if (options.watch_xid_seconds > 0) {
      const long threads = CountThreads();
      gpu::XidWatcherStatus not_started;
      not_started.error = "not started: " + nvml.error().message;
      wrote = Write(WatchSummary(0, 0, 0, not_started, {threads, threads, threads})) && wrote;
    }
  } else if (options.watch_xid_seconds > 0) {
    wrote = Watch(**nvml, options, rules);
  } else {
    wrote = Write(RenderReport(gpu::BuildReport(gpu::ReadNode(**nvml), rules), options));
  }
  if (!wrote) {
    std::fprintf(stderr, "ferry-agent %s: cannot write the report to standard output\n",
                 command.get_name().c_str());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace ferry::agent
