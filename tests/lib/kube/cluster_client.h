// What the lib/kube integration tests share: a Client for the real local
// control plane that the `cluster` CTest fixture started, and a namespace of
// the test's own (named for the test and the process, so that no rerun meets
// what an earlier one left), deleted afterwards.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "lib/kube/client.h"
#include "lib/kube/config.h"

namespace ferry::kube {

// The cluster's admin credentials, from the kubeconfig `up` wrote.
ClusterConfig ClusterAdminConfig();
std::unique_ptr<Client> NewClusterClient(ClientOptions options = {});

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A ConfigMap object in the test's namespace.
  Json ConfigMap(const std::string& name, const Json& data = Json::object()) const;

  std::unique_ptr<Client> client_;
  std::string namespace_;
};

// Polls `condition` every 50 ms until it holds or `timeout` passes.
bool Eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace ferry::kube
