#include <iostream>

#include "ctl/command.h"
#include "lib/common/cli.h"

namespace ferry::ctl {

int Fail(const CLI::App& command, const Error& error) {
  std::cerr << "ferryctl " << command.get_name() << ": " << error.message << "\n";
  return kExitFailure;
}

int UsageError(const CLI::App& command, const std::string& message) {
  std::cerr << "ferryctl " << command.get_name() << ": " << message << "\nRun 'ferryctl "
            << command.get_name() << " --help' for usage.\n";
  return kExitUsage;
}

}  // namespace ferry::ctl
