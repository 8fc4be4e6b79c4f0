// ferryctl doubles as the kubectl plugin: kubectl runs `kubectl ferry ARGS`
// as the first `kubectl-ferry` on PATH (a link to ferryctl) with argv[0] the
// path it found, so the basename of argv[0] is what tells the two apart.
// Invoked as kubectl-ferry, the rollout commands (status, list, history,
// promote, abort, retry) are the top-level ones.
#pragma once

#include <string_view>

namespace ferry::ctl {

inline constexpr std::string_view kKubectlPluginName = "kubectl-ferry";

// Whether argv[0] names the plugin ("kubectl-ferry", "/usr/bin/kubectl-ferry").
bool InvokedAsKubectlPlugin(std::string_view argv0);

// Parses and runs `kubectl ferry ...`; returns the exit code.
int RunKubectlPlugin(int argc, char** argv);

}  // namespace ferry::ctl
