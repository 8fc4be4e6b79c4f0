// What the integration tests that act as a user through kubectl share:
// kubectl on the cluster the `cluster` CTest fixture started, and a
// namespace of each test's own.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "tests/support/paths.h"
#include "tests/support/process.h"

namespace ferry::testing {

inline ProcessResult Kubectl(std::vector<std::string> args, const std::string& input = "") {
  args.insert(args.begin(), {ClusterTool("kubectl"), "--kubeconfig", ClusterKubeconfig()});
  return RunProcess(args, input);
}

// The namespace "<prefix>-<test name>", deleted before the test (so that a
// rerun starts clean) and after it.
class KubectlNamespaceTest : public ::testing::Test {
 protected:
  explicit KubectlNamespaceTest(std::string prefix) : prefix_(std::move(prefix)) {}

  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    namespace_ = prefix_ + "-" + std::string(info->name());
    std::transform(namespace_.begin(), namespace_.end(), namespace_.begin(),
                   [](unsigned char c) { return std::isalnum(c) ? std::tolower(c) : '-'; });
    Kubectl({"delete", "namespace", namespace_, "--ignore-not-found", "--wait=true"});
    ProcessResult created = Kubectl({"create", "namespace", namespace_});
    ASSERT_EQ(created.exit_code, 0) << created.err;
  }
  void TearDown() override { Kubectl({"delete", "namespace", namespace_, "--wait=false"}); }

  std::string namespace_;

 private:
  const std::string prefix_;
};

}  // namespace ferry::testing
