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

namespace ferry::testing {

// A program running in the background, for tests that must kill it mid-way.
// Its output goes to `log_path` (or /dev/null). The destructor kills (SIGKILL)
// and reaps it if it still runs.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_path = "/dev/null");
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const { return pid_; }
  void Kill(int signal);
  // Waits for the exit; returns the exit status or 128 + signal.
  int Wait();

 private:
  int pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

}  // namespace ferry::testing
