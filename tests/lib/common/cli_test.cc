#include "lib/common/cli.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ferry {
namespace {

// Calls ParseCommandLine with `args` as a real argv.
std::optional<int> Parse(CLI::App& app, std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  return ParseCommandLine(app, static_cast<int>(argv.size()), argv.data());
}

class CommandLineTest : public ::testing::Test {
 protected:
  CommandLineTest() : app_("test app", "tool") {
    AddVersionFlag(app_);
    app_.add_option("--count", count_)->check(CLI::Range(1, 10));
  }
  CLI::App app_;
  int count_ = 0;
};

TEST_F(CommandLineTest, GoodArgumentsContinue) {
  EXPECT_EQ(Parse(app_, {"tool", "--count", "4"}), std::nullopt);
  EXPECT_EQ(count_, 4);
}

TEST_F(CommandLineTest, HelpAndVersionExitZero) {
  EXPECT_EQ(Parse(app_, {"tool", "--help"}), kExitOk);
  EXPECT_EQ(Parse(app_, {"tool", "--version"}), kExitOk);
}

TEST_F(CommandLineTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Parse(app_, {"tool", "--no-such-flag"}), kExitUsage);
  EXPECT_EQ(Parse(app_, {"tool", "--count", "11"}), kExitUsage);
  EXPECT_EQ(Parse(app_, {"tool", "--count", "many"}), kExitUsage);
}

}  // namespace
}  // namespace ferry
