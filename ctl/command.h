// How ferryctl's subcommands plug into main: each Add*Command registers its
// flags on the parent app and returns the function that runs it once parsing
// chose it. Runners return the process exit code (0 ok, 1 failure, 2 usage).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "lib/common/result.h"

namespace ferry::ctl {

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command AddKeygenCommand(CLI::App& parent);
Command AddPublishCommand(CLI::App& parent);
Command AddDiffCommand(CLI::App& parent);
Command AddPatchCommand(CLI::App& parent);
Command AddPullCommand(CLI::App& parent);
Command AddVerifyCommand(CLI::App& parent);
Command AddRollbackCommand(CLI::App& parent);
Command AddLsCommand(CLI::App& parent);
Command AddServeCommand(CLI::App& parent);
Command AddBundleCommand(CLI::App& parent);

// Prints "ferryctl <command>: <message>" to stderr; returns 1 (failure).
int Fail(const CLI::App& command, const Error& error);
// For a command line that could never work, found before any work starts (a
// value of the wrong form, flags that do not fit together; see ctl/flags.h):
// prints "ferryctl <command>: <message>" and a hint to --help; returns 2 (usage).
int UsageError(const CLI::App& command, const std::string& message);

}  // namespace ferry::ctl
