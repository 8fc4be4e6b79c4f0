// ferry-agent: stages model versions onto its node's store and reports what the
// node holds and how its GPUs are. This entry point owns the command-line
// contract from the design brief; the node reconciler and health reporter are
// wired in as they land.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "agent/gpu_health_command.h"
#include "lib/common/cli.h"
#include "lib/common/log.h"
#include "lib/common/version.h"

int main(int argc, char** argv) {
  CLI::App app{"ferry-agent: stages model versions on this node and reports its GPUs",
               "ferry-agent"};
  ferry::AddVersionFlag(app);
  std::string kubeconfig;
  std::string node_name;
  if (const char* from_env = std::getenv("NODE_NAME")) node_name = from_env;
  std::string store_root;
  std::string metrics_addr = "127.0.0.1:8081";
  int heartbeat_seconds = 30;
  std::string log_format = "text";
  app.add_option("--kubeconfig", kubeconfig, "kubeconfig file; in-cluster config when omitted");
  app.add_option("--node-name", node_name, "this node's name (default: $NODE_NAME)");
  app.add_option("--store", store_root, "root folder of the model store (the node's volume)");
  app.add_option("--metrics-addr", metrics_addr, "HOST:PORT for /metrics, /healthz and /readyz")
      ->capture_default_str();
  app.add_option("--heartbeat", heartbeat_seconds, "seconds between status heartbeats")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_option("--log-format", log_format, "log format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  ferry::agent::GpuHealthOptions gpu_health_options;
  CLI::App* gpu_health = app.add_subcommand("gpu-health", "print this node's GPU health report");
  ferry::agent::AddGpuHealthFlags(*gpu_health, gpu_health_options);

  if (auto exit_code = ferry::ParseCommandLine(app, argc, argv)) return *exit_code;

  if (gpu_health->parsed()) return ferry::agent::RunGpuHealth(*gpu_health, gpu_health_options);
  auto log = ferry::MakeLogger("agent", *ferry::ParseLogFormat(log_format));
  if (store_root.empty() || node_name.empty()) {
    std::fprintf(stderr,
                 "ferry-agent: --store and a node name (--node-name or $NODE_NAME) are required\n"
                 "Run 'ferry-agent --help' for usage.\n");
    return ferry::kExitUsage;
  }
  log->error("ferry-agent {}: the node reconciler is not part of this build yet", ferry::kVersion);
  return ferry::kExitFailure;
}
