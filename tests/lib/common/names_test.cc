#include "lib/common/names.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry {
namespace {

TEST(NamesTest, ModelNamesAreDnsLike) {
  for (const char* good : {"gpt-a", "coder-6.7b", "a", "llama_3.1-8b", "0model9"}) {
    EXPECT_TRUE(ValidateModelName(good).ok()) << good;
  }
  for (const char* bad : {"", "Coder", "GPT", "-coder", "coder-", ".hidden", "a/b", "a b", ".."}) {
    EXPECT_FALSE(ValidateModelName(bad).ok()) << bad;
  }
  EXPECT_FALSE(ValidateModelName(std::string(254, 'a')).ok());
}

TEST(NamesTest, VersionsAreSemVerIsh) {
  for (const char* good : {"1.0.0", "2.0.0-rc.1", "1.1.0+build.7", "v2"}) {
    EXPECT_TRUE(ValidateVersion(good).ok()) << good;
  }
  for (const char* bad : {"", ".", "..", "../1", "1..0", "1/0", "-1", ".1", "1 0", "1_0"}) {
    EXPECT_FALSE(ValidateVersion(bad).ok()) << bad;
  }
  EXPECT_FALSE(ValidateVersion(std::string(129, '1')).ok());
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
