#include "lib/common/result.h"

#include <gtest/gtest.h>

#include <memory>

namespace ferry {
namespace {

Result<int> ParsePositive(int value) {
  if (value <= 0) return MakeError(ErrorCode::kInvalidArgument, "must be positive");
  return value;
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> good = ParsePositive(3);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 3);

  Result<int> bad = ParsePositive(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message, "must be positive");
}

TEST(ResultTest, MovesOutMoveOnlyValues) {
  Result<std::unique_ptr<int>> result = std::make_unique<int>(7);
  std::unique_ptr<int> taken = std::move(result).value();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 7);
}

TEST(ResultTest, WrapAddsContextAndKeepsCode) {
  Error inner = MakeError(ErrorCode::kUnavailable, "connection refused");
  Error outer = inner.Wrap("fetch chunk ab12");
  EXPECT_EQ(outer.code, ErrorCode::kUnavailable);
  EXPECT_EQ(outer.message, "fetch chunk ab12: connection refused");
}

TEST(ResultTest, StatusDefaultsToOk) {
  Status fine;
  EXPECT_TRUE(fine.ok());
  Status failed = MakeError(ErrorCode::kIo, "disk full");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message, "disk full");
}

TEST(ResultDeathTest, ReadingTheWrongAlternativeAborts) {
  Result<int> bad = MakeError(ErrorCode::kInternal, "boom");
  EXPECT_DEATH((void)bad.value(), "");
  Result<int> good = 1;
  EXPECT_DEATH((void)good.error(), "");
}

}  // namespace
}  // namespace ferry
