// ferry-operator: watches ModelVersion resources and drives their rollouts.
// This entry point owns the command-line contract from the design brief; the
// reconcilers are wired in as they land.
#include <string>

#include "lib/common/cli.h"
#include "lib/common/log.h"
#include "lib/common/version.h"

int main(int argc, char** argv) {
  CLI::App app{"ferry-operator: rolls ModelVersion resources out across a cluster",
               "ferry-operator"};
  ferry::AddVersionFlag(app);
  std::string kubeconfig;
  std::string namespace_name;
  bool leader_elect = false;
  std::string metrics_addr = "127.0.0.1:8080";
  std::string log_format = "text";
  app.add_option("--kubeconfig", kubeconfig, "kubeconfig file; in-cluster config when omitted");
  app.add_option("--namespace", namespace_name, "watch only this namespace; all when omitted");
  app.add_flag("--leader-elect", leader_elect, "elect one active replica through a Lease");
  app.add_option("--metrics-addr", metrics_addr, "HOST:PORT for /metrics, /healthz and /readyz")
      ->capture_default_str();
  app.add_option("--log-format", log_format, "log format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  if (auto exit_code = ferry::ParseCommandLine(app, argc, argv)) return *exit_code;

  auto log = ferry::MakeLogger("operator", *ferry::ParseLogFormat(log_format));
  log->error("ferry-operator {}: the ModelVersion controller is not part of this build yet",
             ferry::kVersion);
  return ferry::kExitFailure;
}
