#include "ctl/kubectl_plugin.h"

#include <iostream>
#include <vector>

#include "ctl/kubectl_commands.h"
#include "lib/common/cli.h"

namespace ferry::ctl {

bool InvokedAsKubectlPlugin(std::string_view argv0) {
  const size_t slash = argv0.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? argv0 : argv0.substr(slash + 1);
  return base == kKubectlPluginName;
}

int RunKubectlPlugin(int argc, char** argv) {
  // Named as the user typed it, so that usage errors and help read
  // "kubectl ferry ..." rather than the file's name.
  CLI::App app{"kubectl ferry: watch and steer Ferry model rollouts (ModelVersions)",
               "kubectl ferry"};
  AddVersionFlag(app);
  const std::vector<Command> commands = {
      AddRolloutStatusCommand(app), AddRolloutListCommand(app), AddRolloutHistoryCommand(app),
      AddPromoteCommand(app),       AddAbortCommand(app),       AddRetryCommand(app),
  };
  if (auto exit_code = ParseCommandLine(app, argc, argv)) return *exit_code;
  for (const Command& command : commands) {
    if (command.app->parsed()) return command.run();
  }
  std::cerr << app.help() << "kubectl ferry: a subcommand is required\n";
  return kExitUsage;
}

}  // namespace ferry::ctl
