// The cases of object_writer_cases.cc on a kube::Client against the real
// local control plane: what the fake must agree with.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <memory>
#include <string>

#include "tests/lib/kube/cluster_client.h"

namespace ferry::kube {

namespace {
// One per test, made by SetUp (gtest runs tests one at a time).
struct ClusterTarget {
  std::unique_ptr<Client> client;
  std::string namespace_name;
};
std::unique_ptr<ClusterTarget>& Target() {
  static std::unique_ptr<ClusterTarget> target;
  return target;
}
}  // namespace

namespace writer_target {

const char* Name() { return "Cluster"; }

void SetUp() {
  auto target = std::make_unique<ClusterTarget>();
  target->client = NewClusterClient();
  ASSERT_NE(target->client, nullptr);
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  // Named for the test, the process and the run (--gtest_repeat), so that no
  // test meets a namespace an earlier one left terminating.
  static int runs = 0;
  std::string name = "ow-" + std::string(info->name()).substr(0, 36) + "-" +
                     std::to_string(::getpid()) + "-" + std::to_string(++runs);
  for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? std::tolower(c) : '-';
  target->namespace_name = name;
  Result<Json> created = target->client->Create(
      types::Namespaces(),
      {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}});
  ASSERT_TRUE(created) << created.error().message;
  Target() = std::move(target);
}

void TearDown() {
  if (Target() && Target()->client) {
    (void)Target()->client->Delete(types::Namespaces(), "", Target()->namespace_name);
  }
  Target().reset();
}

ObjectWriter& Writer() { return *Target()->client; }
std::string Namespace() { return Target()->namespace_name; }

}  // namespace writer_target
}  // namespace ferry::kube
