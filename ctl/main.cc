// ferryctl: Ferry's artifact library for people — publish and sign versions,
// make and apply deltas, pull into a store, verify and roll back, serve a
// repository, carry an offline bundle. Run as kubectl-ferry (a link to this
// binary), it is the kubectl plugin instead (ctl/kubectl_plugin.h).
#include <iostream>
#include <vector>

#include "ctl/command.h"
#include "ctl/kubectl_plugin.h"
#include "lib/common/cli.h"

int main(int argc, char** argv) {
  if (argc > 0 && ferry::ctl::InvokedAsKubectlPlugin(argv[0])) {
    return ferry::ctl::RunKubectlPlugin(argc, argv);
  }
  CLI::App app{"ferryctl: publish, move and inspect Ferry model versions", "ferryctl"};
  ferry::AddVersionFlag(app);
  using namespace ferry::ctl;
  const std::vector<Command> commands = {
      AddKeygenCommand(app), AddPublishCommand(app), AddDiffCommand(app),     AddPatchCommand(app),
      AddPullCommand(app),   AddVerifyCommand(app),  AddRollbackCommand(app), AddLsCommand(app),
      AddServeCommand(app),  AddBundleCommand(app),
  };
  if (auto exit_code = ferry::ParseCommandLine(app, argc, argv)) return *exit_code;
  for (const Command& command : commands) {
    if (command.app->parsed()) return command.run();
  }
  // Checked after parsing rather than with require_subcommand(), so that an
  // unknown flag is reported as itself instead of as a missing subcommand.
  std::cerr << app.help() << "ferryctl: a subcommand is required\n";
  return ferry::kExitUsage;
}
