// The command-line contract every shipped binary keeps (see the design brief):
// --help and --version exit 0, a usage error exits 2 and says how to get help.
// Runs the built binaries as a user would.
#include <gtest/gtest.h>

#include "lib/common/version.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"

namespace ferry::testing {
namespace {

class BinaryContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  ProcessResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), BinaryPath(GetParam()));
    return RunProcess(args);
  }
};

TEST_P(BinaryContractTest, HelpExitsZeroAndDescribesTheProgram) {
  ProcessResult result = Run({"--help"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find(GetParam()), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("--version"), std::string::npos) << result.out;
}

TEST_P(BinaryContractTest, VersionPrintsNameAndVersion) {
  ProcessResult result = Run({"--version"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, GetParam() + " " + kVersion + "\n");
}

TEST_P(BinaryContractTest, UnknownFlagExitsTwoWithUsageHint) {
  ProcessResult result = Run({"--definitely-not-a-flag"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("--definitely-not-a-flag"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("--help"), std::string::npos) << result.err;
  EXPECT_TRUE(result.out.empty()) << result.out;
}

INSTANTIATE_TEST_SUITE_P(Binaries, BinaryContractTest,
                         ::testing::Values("ferryctl", "ferry-operator", "ferry-agent"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::erase(name, '-');
                           return name;
                         });

TEST(FerryctlTest, NoSubcommandIsAUsageError) {
  ProcessResult result = RunProcess({BinaryPath("ferryctl")});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("subcommand"), std::string::npos) << result.err;
}

TEST(OperatorTest, UnknownLogFormatIsAUsageError) {
  ProcessResult result = RunProcess({BinaryPath("ferry-operator"), "--log-format", "xml"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("xml"), std::string::npos) << result.err;
}

TEST(AgentTest, MissingStoreIsAUsageError) {
  ProcessResult result =
      RunProcess({BinaryPath("ferry-agent"), "--node-name", "gpu-0"}, "", {{"NODE_NAME", ""}});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("--store"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace ferry::testing
