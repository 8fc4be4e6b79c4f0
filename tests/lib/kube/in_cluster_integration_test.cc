// A pod's view of the API server, with a real service-account token: the test
// writes what the kubelet would mount (token, ca.crt, namespace) into a
// folder, and the in-cluster configuration reads it. RBAC is the real API
// server's; the token is minted by its TokenRequest API; "rotation" rewrites
// the token file as the kubelet does.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/lib/kube/cluster_client.h"
#include "tests/support/temp_dir.h"

namespace ferry::kube {
namespace {

namespace fs = std::filesystem;

class InClusterTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    const Json account = {{"apiVersion", "v1"},
                          {"kind", "ServiceAccount"},
                          {"metadata", {{"name", "agent"}, {"namespace", namespace_}}}};
    ASSERT_TRUE(client_->Create({"", "v1", "serviceaccounts", "ServiceAccount", true}, account));
  }

  std::string MintToken() {
    const Json request = {{"apiVersion", "authentication.k8s.io/v1"},
                          {"kind", "TokenRequest"},
                          {"spec", {{"expirationSeconds", 600}}}};
    Result<HttpResponse> answer =
        client_->Raw({"POST", "/api/v1/namespaces/" + namespace_ + "/serviceaccounts/agent/token",
                      request.dump(), "application/json"},
                     false);
    EXPECT_TRUE(answer && answer->status == 201)
        << (answer ? answer->body : answer.error().message);
    return answer ? StringField(ObjectField(Json::parse(answer->body), "status"), "token") : "";
  }

  // Writes `token` as the kubelet does, moving the file's time on so that a
  // rewrite within the same second is still seen as a change.
  void WriteToken(const std::string& token) {
    const fs::path path = dir_ / "token";
    std::ofstream(path, std::ios::trunc) << token << "\n";
    fs::last_write_time(path, fs::file_time_type::clock::now() + std::chrono::seconds(++writes_));
  }

  InClusterEnvironment Environment() {
    const ClusterConfig admin = ClusterAdminConfig();
    std::ofstream(dir_ / "ca.crt") << admin.ca_pem;
    std::ofstream(dir_ / "namespace") << namespace_ << "\n";
    const size_t colon = admin.server.rfind(':');
    return {"127.0.0.1", admin.server.substr(colon + 1), dir_.path()};
  }

  testing::TempDir dir_;
  int writes_ = 0;
};

TEST_F(InClusterTest, AServiceAccountTokenAuthenticatesAndRbacDecides) {
  WriteToken(MintToken());
  Result<ClusterConfig> config = LoadInClusterConfig(Environment());
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->default_namespace, namespace_);
  Result<std::unique_ptr<Client>> pod_client = Client::Create(*config, {.max_retries = 0});
  ASSERT_TRUE(pod_client) << pod_client.error().message;
  Client& pod = **pod_client;

  // Authenticated, but not yet allowed.
  Result<ObjectList> denied = pod.List(types::ConfigMaps(), namespace_);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, ErrorCode::kPermissionDenied) << denied.error().message;
  EXPECT_NE(denied.error().message.find("system:serviceaccount:" + namespace_ + ":agent"),
            std::string::npos)
      << denied.error().message;

  const ResourceType roles{"rbac.authorization.k8s.io", "v1", "roles", "Role", true};
  const ResourceType bindings{"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding",
                              true};
  ASSERT_TRUE(client_->Create(
      roles, {{"apiVersion", "rbac.authorization.k8s.io/v1"},
              {"kind", "Role"},
              {"metadata", {{"name", "read-configmaps"}, {"namespace", namespace_}}},
              {"rules", Json::array({{{"apiGroups", {""}},
                                      {"resources", {"configmaps"}},
                                      {"verbs", {"get", "list", "watch"}}}})}}));
  ASSERT_TRUE(client_->Create(
      bindings,
      {{"apiVersion", "rbac.authorization.k8s.io/v1"},
       {"kind", "RoleBinding"},
       {"metadata", {{"name", "agent-reads"}, {"namespace", namespace_}}},
       {"roleRef",
        {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "read-configmaps"}}},
       {"subjects",
        Json::array(
            {{{"kind", "ServiceAccount"}, {"name", "agent"}, {"namespace", namespace_}}})}}));
  EXPECT_TRUE(Eventually([&] { return pod.List(types::ConfigMaps(), namespace_).ok(); }));
  // Only what the Role grants.
  Result<Json> create = pod.Create(types::ConfigMaps(), ConfigMap("nope"));
  ASSERT_FALSE(create);
  EXPECT_EQ(create.error().code, ErrorCode::kPermissionDenied);
}

TEST_F(InClusterTest, ARotatedTokenIsPickedUpWithoutARestart) {
  WriteToken(MintToken());
  Result<ClusterConfig> config = LoadInClusterConfig(Environment());
  ASSERT_TRUE(config) << config.error().message;
  Result<std::unique_ptr<Client>> pod_client = Client::Create(*config, {.max_retries = 0});
  ASSERT_TRUE(pod_client);
  Client& pod = **pod_client;
  // /version needs authentication only; any valid token may read it.
  auto authenticated = [&] {
    Result<HttpResponse> answer = pod.Raw({"GET", "/apis", "", ""}, true);
    return answer.ok() ? answer->status : -1;
  };
  EXPECT_EQ(authenticated(), 200);

  WriteToken("revoked-or-garbage");  // the client must read the file again
  EXPECT_EQ(authenticated(), 401);

  WriteToken(MintToken());
  EXPECT_EQ(authenticated(), 200);
}

TEST(InClusterConfig, OutsideAPodSaysSo) {
  Result<ClusterConfig> config = LoadInClusterConfig({});
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, ErrorCode::kNotFound);
  EXPECT_NE(config.error().message.find("KUBERNETES_SERVICE_HOST"), std::string::npos);
}

}  // namespace
}  // namespace ferry::kube
