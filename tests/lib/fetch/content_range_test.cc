#include "lib/fetch/content_range.h"

#include <gtest/gtest.h>

namespace ferry::fetch {
namespace {

TEST(ContentRangeTest, ParsesRangesAndUnsatisfiedAnswers) {
  std::optional<ContentRange> range = ParseContentRange("bytes 100-199/1000");
  ASSERT_TRUE(range);
  EXPECT_EQ(range->first, 100u);
  EXPECT_EQ(range->last, 199u);
  EXPECT_EQ(range->length, 1000u);

  range = ParseContentRange("bytes 0-9/*");
  ASSERT_TRUE(range);
  EXPECT_EQ(range->length, std::nullopt);

  range = ParseContentRange("bytes */1000");
  ASSERT_TRUE(range);
  EXPECT_EQ(range->first, std::nullopt);
  EXPECT_EQ(range->length, 1000u);
}

TEST(ContentRangeTest, RefusesAnythingElse) {
  for (const char* bad : {"", "bytes", "bytes 1-2", "bytes */*", "bytes 5-2/10", "bytes 0-10/10",
                          "items 0-1/2", "bytes -1-2/3", "bytes 1-2/3x"}) {
    EXPECT_EQ(ParseContentRange(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace ferry::fetch
