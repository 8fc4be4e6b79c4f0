#include "lib/common/names.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/paths.h"

namespace ferry {
namespace {

using ferry::testing::SourcePath;

TEST(NamesTest, ModelNamesAreDnsLike) {
  for (const char* good : {"gpt-a", "coder-6.7b", "a", "llama_3.1-8b", "0model9"}) {
    EXPECT_TRUE(ValidateModelName(good).ok()) << good;
  }
  for (const char* bad : {"", "Coder", "GPT", "-coder", "coder-", ".hidden", "a/b", "a b", ".."}) {
    EXPECT_FALSE(ValidateModelName(bad).ok()) << bad;
  }
  EXPECT_FALSE(ValidateModelName(std::string(254, 'a')).ok());
}

TEST(NamesTest, VersionsAreSemVer) {
  for (const char* good : {"1.0.0", "0.0.0", "10.20.30", "2.0.0-rc.1", "1.1.0+build.7",
                           "1.0.0-alpha-beta.0.x-1+exp.sha.5114f85", "1.0.0-0A.is.legal",
                           "1.0.0+0001", "1.0.0--", "1.2.3-rc.0"}) {
    EXPECT_TRUE(ValidateVersion(good).ok()) << good;
  }
  for (const char* bad :
       {"",         ".",         "..",        "../1",     "1..0",   "1/0",    "-1",
        ".1",       "1 0",       "1_0",       "v2",       "1.0",    "v1",     "latest",
        "1",        "1.0.0.0",   "01.0.0",    "1.00.0",   "1.0.0-", "1.0.0+", "1.0.0-rc..1",
        "1.0.0-01", "1.0.0+a+b", "1.0.0-a_b", "1.0.0/..", "1.0.0\n"}) {
    Status status = ValidateVersion(bad);
    ASSERT_FALSE(status.ok()) << bad;
    EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(status.error().message.find("is not a SemVer 2.0.0 version"), std::string::npos)
        << status.error().message;
  }
  EXPECT_TRUE(ValidateVersion("1.0.0-" + std::string(122, 'a')).ok());
  EXPECT_FALSE(ValidateVersion("1.0.0-" + std::string(123, 'a')).ok());
}

TEST(NamesTest, VersionMessagesSayWhatIsWrong) {
  auto message = [](std::string_view version) {
    Status status = ValidateVersion(version);
    return status.ok() ? std::string("accepted") : status.error().message;
  };
  EXPECT_NE(message("v1.0.0").find("drop the leading 'v'"), std::string::npos);
  EXPECT_NE(message("1.0").find("exactly three numbers"), std::string::npos);
  EXPECT_NE(message("latest").find("must be numbers, not 'latest'"), std::string::npos);
  EXPECT_NE(message("1.02.0").find("'02' has a leading zero"), std::string::npos);
  EXPECT_NE(message("1.0.0-rc.01").find("pre-release number '01'"), std::string::npos);
  EXPECT_NE(message("1.0.0-rc_1").find("'_'"), std::string::npos);
  EXPECT_NE(message("1.0.0+").find("build part has an empty identifier"), std::string::npos);
  EXPECT_NE(message(std::string(129, '1')).find("longer than 128"), std::string::npos);
}

// The rule is the CRDs' (the one source): for every string over an alphabet
// that exercises each branch of the pattern, up to seven characters long,
// ValidateVersion and the pattern in crds/modelnode.yaml agree.
TEST(NamesTest, VersionRuleIsExactlyTheCrdPattern) {
  std::ifstream crd(SourcePath("crds/modelnode.yaml"));
  ASSERT_TRUE(crd) << "crds/modelnode.yaml";
  std::string line, pattern;
  while (std::getline(crd, line)) {
    const size_t at = line.find("pattern: '^(0|[1-9][0-9]*)\\.");
    if (at == std::string::npos) continue;
    pattern = line.substr(line.find('\'', at) + 1);
    pattern.pop_back();  // the closing quote
    break;
  }
  ASSERT_FALSE(pattern.empty()) << "no version pattern in crds/modelnode.yaml";
  const std::regex crd_rule(pattern);

  const std::string alphabet = "01a.-+";
  size_t accepted = 0, checked = 0;
  std::string candidate;
  // Odometer over all strings of length 1..7.
  for (size_t length = 1; length <= 7; ++length) {
    std::vector<size_t> digits(length, 0);
    while (true) {
      candidate.clear();
      for (size_t d : digits) candidate += alphabet[d];
      const bool by_crd = std::regex_match(candidate, crd_rule);
      ASSERT_EQ(ValidateVersion(candidate).ok(), by_crd) << "'" << candidate << "'";
      accepted += by_crd;
      ++checked;
      size_t i = 0;
      while (i < length && ++digits[i] == alphabet.size()) digits[i++] = 0;
      if (i == length) break;
    }
  }
  EXPECT_GT(accepted, 100u) << "the alphabet must reach valid versions too";
  for (const char* longer : {"1.0.0-alpha.1+build.2", "1.0.0-x.7.z.92", "1.0.0-alpha.beta.1",
                             "1.0.0+20130313144700", "1.0.0-rc.1+build.1.x-y"}) {
    EXPECT_TRUE(std::regex_match(std::string(longer), crd_rule)) << longer;
    EXPECT_TRUE(ValidateVersion(longer).ok()) << longer;
  }
}

TEST(NamesTest, RelativePathsStayInside) {
  for (const char* good : {"model.safetensors", "tokenizer/vocab.json", "a/b/c", ".hidden/x",
                           "adapters/sql/adapter_model.safetensors", "a..b"}) {
    EXPECT_TRUE(ValidateRelativePath(good).ok()) << good;
  }
  for (const char* bad :
       {"", "/etc/passwd", "../x", "a/../b", "a/..", "./a", "a//b", "a/", "a\\b", "..", "."}) {
    Status status = ValidateRelativePath(bad);
    ASSERT_FALSE(status.ok()) << bad;
    EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(status.error().message.find("is not allowed"), std::string::npos);
  }
  EXPECT_FALSE(ValidateRelativePath(std::string("a\0b", 3)).ok());
  EXPECT_FALSE(ValidateRelativePath(std::string(256, 'x')).ok());
  EXPECT_NE(ValidateRelativePath("/abs").error().message.find("absolute"), std::string::npos);
}

}  // namespace
}  // namespace ferry
