// `ferry-agent gpu-health`: this node's GPU report, once, from the command
// line, through the same NVML reading, health rules and renderers the agent
// uses for ModelNode.status.gpus.
//   --once                 one report, then exit 0 (with no GPUs too)
//   --json | --prometheus  the report as JSON (status.gpus entries) or metrics;
//                          a short table otherwise
//   --watch-xid SECONDS    run the XID watcher that long: one line per event as
//                          it arrives, then the report, then a last line with
//                          the event count and the process's thread count
//                          before, during and after the watch
//   --application-xids L   XIDs that are recorded but not fatal (default 13,31,43,45,68)
//   --nvml PATH            the NVML library to load (default libnvidia-ml.so.1)
// Exit codes as lib/common/cli.h: 0 a report was printed (whatever the GPUs'
// health), 1 output could not be written, 2 usage.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace ferry::agent {

struct GpuHealthOptions {
  bool once = false;
  bool json = false;
  bool prometheus = false;
  double watch_xid_seconds = 0;  // 0: no watch
  std::vector<uint64_t> application_xids;
  std::string nvml_library;
};

// Adds the flags above to the `gpu-health` subcommand, filling `options`.
void AddGpuHealthFlags(CLI::App& command, GpuHealthOptions& options);

// Runs the parsed subcommand; returns the exit code.
int RunGpuHealth(const CLI::App& command, const GpuHealthOptions& options);

}  // namespace ferry::agent
