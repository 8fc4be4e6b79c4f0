// Where tests find the source tree, the built binaries and the shared cluster.
#pragma once

#include <string>

namespace ferry::testing {

std::string SourcePath(const std::string& relative);  // under the source tree
std::string BinaryPath(const std::string& name);      // build/bin/<name>

// A real checkpoint from ../shared/models/gpt-a/ beside the source tree
// (read-only inputs; tests copy what they change).
std::string ModelPath(const std::string& file);

// The shared integration cluster (see tests/CMakeLists.txt, fixture `cluster`).
std::string ClusterState();  // its folder: pki/, pids, logs/
std::string ClusterKubeconfig();
std::string ClusterTool(const std::string& name);  // kubectl, helm, … built for the cluster

}  // namespace ferry::testing
