// The subcommands of `kubectl ferry`, registered on the plugin's app as
// ferryctl's own are on ferryctl's (see ctl/command.h): each returns the
// function that runs it once parsing chose it. Runners return the exit code:
// 0 ok, 1 failure (a refused promote, a missing ModelVersion, an unreachable
// cluster, a watched rollout that ended RolledBack or Failed), 2 usage.
#pragma once

#include <CLI/CLI.hpp>

#include "ctl/command.h"

namespace ferry::ctl {

Command AddRolloutStatusCommand(CLI::App& parent);   // status NAME [--watch]
Command AddRolloutListCommand(CLI::App& parent);     // list [-A]
Command AddRolloutHistoryCommand(CLI::App& parent);  // history NAME|MODEL
Command AddPromoteCommand(CLI::App& parent);         // promote NAME [--full]
Command AddAbortCommand(CLI::App& parent);           // abort NAME
Command AddRetryCommand(CLI::App& parent);           // retry NAME

// "kubectl ferry <command>: <message>" on stderr; returns 1.
int PluginFail(const CLI::App& command, const Error& error);
// "kubectl ferry <command>: <message>" and a hint to --help; returns 2.
int PluginUsageError(const CLI::App& command, const std::string& message);

}  // namespace ferry::ctl
