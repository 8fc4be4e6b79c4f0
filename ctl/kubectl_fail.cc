#include <iostream>

#include "ctl/kubectl_commands.h"
#include "lib/common/cli.h"

namespace ferry::ctl {

int PluginFail(const CLI::App& command, const Error& error) {
  std::cerr << "kubectl ferry " << command.get_name() << ": " << error.message << "\n";
  return kExitFailure;
}

int PluginUsageError(const CLI::App& command, const std::string& message) {
  std::cerr << "kubectl ferry " << command.get_name() << ": " << message << "\nRun 'kubectl ferry "
            << command.get_name() << " --help' for usage.\n";
  return kExitUsage;
}

}  // namespace ferry::ctl
