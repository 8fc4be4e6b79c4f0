#include "tests/support/paths.h"

namespace ferry::testing {

std::string SourcePath(const std::string& relative) {
  return std::string(FERRY_SOURCE_DIR) + "/" + relative;
}

std::string BinaryPath(const std::string& name) {
  return std::string(FERRY_BINARY_DIR) + "/" + name;
}

std::string ModelPath(const std::string& file) {
  return std::string(FERRY_SOURCE_DIR) + "/../shared/models/gpt-a/" + file;
}

std::string ClusterState() { return FERRY_CLUSTER_STATE; }

std::string ClusterKubeconfig() { return ClusterState() + "/kubeconfig"; }

// e2e/cluster/up links <state>/bin to the cached binaries it started.
std::string ClusterTool(const std::string& name) {
  return std::string(FERRY_CLUSTER_STATE) + "/bin/" + name;
}

}  // namespace ferry::testing
