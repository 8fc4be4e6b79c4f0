// Parses arbitrary bytes as a kubeconfig: ParseKubeconfig must return a
// configuration or an error naming the problem, never crash, throw or hang.
// A kubeconfig is user input (a file someone copied from a cluster), and
// relative credential paths are resolved against a folder that does not
// exist, so the harness touches no file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lib/kube/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ferry::Result<ferry::kube::ClusterConfig> config =
      ferry::kube::ParseKubeconfig(text, "/nonexistent-ferry-fuzz", "");
  if (config.ok() && config->server.empty()) __builtin_trap();  // a config always names its server
  return 0;
}
