// Runs a program to completion for tests and captures what it printed. Tests
// drive the real binaries and tools (ferryctl, kubectl, the cluster scripts)
// through this, so they check what a user would see: exit code and output.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ferry::testing {

struct ProcessResult {
  int exit_code = -1;  // the exit status, or 128 + signal when killed
  std::string out;
  std::string err;
};

// Runs argv[0] (looked up on PATH) with `argv`, feeding `input` to its stdin.
// `env` entries are added to (or replace) the inherited environment.
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::string& input = "",
                         const std::map<std::string, std::string>& env = {});

}  // namespace ferry::testing
