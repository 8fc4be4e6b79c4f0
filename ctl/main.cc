// ferryctl: Ferry's artifact library for people (publish, diff, patch, pull,
// verify, rollback, serve, bundle). Subcommands register here as they land.
#include <iostream>

#include "lib/common/cli.h"

int main(int argc, char** argv) {
  CLI::App app{"ferryctl: publish, move and inspect Ferry model versions", "ferryctl"};
  ferry::AddVersionFlag(app);
  if (auto exit_code = ferry::ParseCommandLine(app, argc, argv)) return *exit_code;
  // Checked after parsing rather than with require_subcommand(), so that an
  // unknown flag is reported as itself instead of as a missing subcommand.
  if (app.get_subcommands().empty()) {
    std::cerr << app.help() << "ferryctl: a subcommand is required\n";
    return ferry::kExitUsage;
  }
  return ferry::kExitOk;
}
