#include "tests/lib/kube/cluster_client.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <thread>

#include "tests/support/paths.h"

namespace ferry::kube {

ClusterConfig ClusterAdminConfig() {
  Result<ClusterConfig> config = LoadKubeconfigFiles({testing::ClusterKubeconfig()});
  if (!config) {
    ADD_FAILURE() << config.error().message;
    return {};
  }
  return *config;
}

std::unique_ptr<Client> NewClusterClient(ClientOptions options) {
  Result<std::unique_ptr<Client>> client = Client::Create(ClusterAdminConfig(), std::move(options));
  if (!client) {
    ADD_FAILURE() << client.error().message;
    return nullptr;
  }
  return std::move(*client);
}

void ClusterTest::SetUp() {
  client_ = NewClusterClient();
  ASSERT_NE(client_, nullptr);
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  // A name no earlier run used: a namespace deleted by an earlier run can
  // leave custom resources behind when the namespace controller's discovery
  // missed their CRD, and a namespace of the same name would find them.
  namespace_ = "kube-" + std::string(info->name()).substr(0, 40) + "-" + std::to_string(getpid());
  std::transform(namespace_.begin(), namespace_.end(), namespace_.begin(),
                 [](unsigned char c) { return std::isalnum(c) ? std::tolower(c) : '-'; });
  const Json ns = {
      {"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", namespace_}}}};
  Result<Json> created = client_->Create(types::Namespaces(), ns);
  ASSERT_TRUE(created) << "could not create namespace " << namespace_ << ": "
                       << created.error().message;
}

void ClusterTest::TearDown() {
  if (client_) (void)client_->Delete(types::Namespaces(), "", namespace_);
}

Json ClusterTest::ConfigMap(const std::string& name, const Json& data) const {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", namespace_}}},
          {"data", data}};
}

bool Eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

}  // namespace ferry::kube
