// The command-line contract every Ferry binary shares: `--help` and `--version`
// exit 0, a usage error prints what was wrong and how to get help and exits 2,
// a failure while running exits 1.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>

namespace ferry {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Adds `--version` (printing Ferry's version) to `app`.
void AddVersionFlag(CLI::App& app);

// Parses the command line. Returns the exit code to stop with when parsing
// decided the outcome (help, version, usage error), or nullopt to go on.
std::optional<int> ParseCommandLine(CLI::App& app, int argc, char** argv);

}  // namespace ferry
