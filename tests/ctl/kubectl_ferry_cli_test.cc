// The plugin's command line without a cluster: kubectl-ferry (the link beside
// ferryctl) takes the rollout commands at top level, usage errors exit 2, a
// cluster that does not answer exits 1 naming the server, and the namespace
// follows kubectl's rules (flag, then the context's, then "default"), seen in
// the request path the error names.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace ferry::testing {
namespace {

ProcessResult Plugin(std::vector<std::string> args) {
  args.insert(args.begin(), BinaryPath("kubectl-ferry"));
  return RunProcess(args, "", {{"KUBECONFIG", "/nonexistent/kubeconfig"}});
}

// A kubeconfig whose server refuses connections (nothing listens on port 1).
std::string UnreachableKubeconfig(const TempDir& dir, const std::string& context_namespace) {
  const auto path = dir / "kubeconfig";
  std::ofstream(path) << "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                         "clusters: [{name: k, cluster: {server: 'http://127.0.0.1:1'}}]\n"
                         "users: [{name: u, user: {token: t}}]\n"
                         "contexts: [{name: c, context: {cluster: k, user: u"
                      << (context_namespace.empty() ? "" : ", namespace: " + context_namespace)
                      << "}}]\n";
  return path.string();
}

TEST(KubectlFerryCliTest, HelpListsTheRolloutCommands) {
  ProcessResult help = Plugin({"--help"});
  ASSERT_EQ(help.exit_code, 0) << help.err;
  for (const char* command : {"status", "list", "history", "promote", "abort", "retry"}) {
    EXPECT_NE(help.out.find(command), std::string::npos) << command;
    ProcessResult sub = Plugin({command, "--help"});
    EXPECT_EQ(sub.exit_code, 0) << command << ": " << sub.err;
    EXPECT_NE(sub.out.find("Usage: kubectl ferry " + std::string(command)), std::string::npos)
        << sub.out;
    EXPECT_NE(sub.out.find("--kubeconfig"), std::string::npos) << sub.out;
    EXPECT_NE(sub.out.find("-n,--namespace"), std::string::npos) << sub.out;
  }
  EXPECT_EQ(Plugin({"--version"}).exit_code, 0);
}

TEST(KubectlFerryCliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Plugin({}).exit_code, 2);
  EXPECT_EQ(Plugin({"status"}).exit_code, 2);
  EXPECT_EQ(Plugin({"promote", "a", "--fast"}).exit_code, 2);
  EXPECT_EQ(Plugin({"bogus"}).exit_code, 2);
  ProcessResult bad_name = Plugin({"promote", "Not/A/Name"});
  EXPECT_EQ(bad_name.exit_code, 2);
  EXPECT_NE(bad_name.err.find("not a Kubernetes object name"), std::string::npos) << bad_name.err;
}

TEST(KubectlFerryCliTest, FerryctlKeepsItsOwnCommands) {
  ProcessResult ferryctl = RunProcess({BinaryPath("ferryctl"), "promote", "x"});
  EXPECT_EQ(ferryctl.exit_code, 2) << "promote is the plugin's, not ferryctl's";
  EXPECT_EQ(RunProcess({BinaryPath("ferryctl"), "keygen", "--help"}).exit_code, 0);
}

TEST(KubectlFerryCliTest, AMissingKubeconfigExitsOne) {
  ProcessResult missing = Plugin({"status", "x", "--kubeconfig", "/nonexistent/config"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("/nonexistent/config"), std::string::npos) << missing.err;
}

TEST(KubectlFerryCliTest, AnUnreachableClusterNamesTheServer) {
  TempDir dir;
  const std::string kubeconfig = UnreachableKubeconfig(dir, "ml");
  ProcessResult status = Plugin({"status", "coder-1-1-0", "--kubeconfig", kubeconfig});
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_NE(status.err.find("cannot reach the API server http://127.0.0.1:1"), std::string::npos)
      << status.err;
  EXPECT_NE(status.err.find("/namespaces/ml/modelversions/coder-1-1-0"), std::string::npos)
      << "the context's namespace: " << status.err;

  ProcessResult flag =
      Plugin({"promote", "coder-1-1-0", "--kubeconfig", kubeconfig, "-n", "other"});
  EXPECT_EQ(flag.exit_code, 1);
  EXPECT_NE(flag.err.find("/namespaces/other/modelversions/coder-1-1-0"), std::string::npos)
      << "-n wins: " << flag.err;

  ProcessResult list = Plugin({"list", "-A", "--kubeconfig", kubeconfig});
  EXPECT_EQ(list.exit_code, 1);
  EXPECT_NE(list.err.find("/apis/ferry.dev/v1alpha1/modelversions"), std::string::npos)
      << "-A lists across namespaces: " << list.err;

  TempDir plain;
  ProcessResult fallback =
      Plugin({"abort", "coder-1-1-0", "--kubeconfig", UnreachableKubeconfig(plain, "")});
  EXPECT_EQ(fallback.exit_code, 1);
  EXPECT_NE(fallback.err.find("/namespaces/default/modelversions/coder-1-1-0"), std::string::npos)
      << "no namespace anywhere: default: " << fallback.err;
}

}  // namespace
}  // namespace ferry::testing
