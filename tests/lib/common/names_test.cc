#include "lib/common/names.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

TEST(NamesTest, RelativePaths) {
  for (const char* good :
       {"a", "a/b.safetensors", "adapters/sql/adapter_model.safetensors", ".hidden", "a..b"}) {
    EXPECT_TRUE(ValidateRelativePath(good).ok()) << good;
  }
  for (const char* bad : {"", "/a", "a/../b", "./a", "a/", "a//b", "a\\b", "..", "."}) {
    Status status = ValidateRelativePath(bad);
    ASSERT_FALSE(status.ok()) << bad;
    EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(status.error().message.find("is not allowed"), std::string::npos);
  }
  EXPECT_FALSE(ValidateRelativePath(std::string(256, 'x')).ok());
  EXPECT_FALSE(ValidateRelativePath(std::string_view("a\0b", 3)).ok());
}

TEST(NamesTest, ModelNames) {
  for (const char* good : {"gpt-a", "coder-6.7b", "m", "a_b"}) {
    EXPECT_TRUE(ValidateModelName(good).ok()) << good;
  }
  for (const char* bad : {"", "GPT", "-a", "a-", ".a", "a/b", "a b"}) {
    EXPECT_FALSE(ValidateModelName(bad).ok()) << bad;
  }
  EXPECT_FALSE(ValidateModelName(std::string(254, 'a')).ok());
}

TEST(NamesTest, Versions) {
  for (const char* good : {"1.0.0", "2.0.0-rc.1", "1.1.0+build.7", "v2"}) {
    EXPECT_TRUE(ValidateVersion(good).ok()) << good;
  }
  for (const char* bad : {"", "../1", "1..0", "-1", "1/0", "1 0"}) {
    EXPECT_FALSE(ValidateVersion(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace ferry
