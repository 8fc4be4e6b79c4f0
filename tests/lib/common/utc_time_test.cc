// RFC 3339 times in UTC: to the second or the microsecond, truncated, read
// back with fractions of any length, and nothing but Z as the zone.
#include "lib/common/utc_time.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

using std::chrono::microseconds;
using std::chrono::seconds;
using std::chrono::system_clock;

system_clock::time_point At(int64_t unix_seconds, int64_t micros = 0) {
  return system_clock::time_point(seconds(unix_seconds)) + microseconds(micros);
}

TEST(UtcTime, FormatsInUtcToTheSecondOrTheMicrosecond) {
  // 2024-02-29T13:14:15Z, a leap day.
  const auto time = At(1709212455, 123456);
  EXPECT_EQ(FormatTime(time), "2024-02-29T13:14:15Z");
  EXPECT_EQ(FormatMicroTime(time), "2024-02-29T13:14:15.123456Z");
  EXPECT_EQ(FormatMicroTime(At(1709212455, 7)), "2024-02-29T13:14:15.000007Z");
  EXPECT_EQ(FormatTime(At(0)), "1970-01-01T00:00:00Z");
}

TEST(UtcTime, FormatTimeTruncatesRatherThanRounds) {
  EXPECT_EQ(FormatTime(At(1709212455, 999999)), "2024-02-29T13:14:15Z");
}

TEST(UtcTime, RoundTrips) {
  const auto time = At(1709212455, 123456);
  EXPECT_EQ(ParseTime(FormatMicroTime(time)), time);
  EXPECT_EQ(ParseTime(FormatTime(time)), At(1709212455));
}

TEST(UtcTime, ReadsFractionsOfAnyLength) {
  EXPECT_EQ(ParseTime("2024-02-29T13:14:15.5Z"), At(1709212455, 500000));
  EXPECT_EQ(ParseTime("2024-02-29T13:14:15.000001Z"), At(1709212455, 1));
  // Nanoseconds (as Go may write them) are cut to microseconds.
  EXPECT_EQ(ParseTime("2024-02-29T13:14:15.123456789Z"), At(1709212455, 123456));
}

TEST(UtcTime, RefusesAnythingButUtcRfc3339) {
  EXPECT_EQ(ParseTime("2024-02-29T13:14:15+02:00"), std::nullopt);
  EXPECT_EQ(ParseTime("2024-02-29T13:14:15.5-07:00"), std::nullopt);
  EXPECT_EQ(ParseTime("2024-02-29T13:14:15"), std::nullopt);  // no zone at all
  EXPECT_EQ(ParseTime("2024-02-29T13:14:15Zjunk"), std::nullopt);
  EXPECT_EQ(ParseTime("yesterday"), std::nullopt);
  EXPECT_EQ(ParseTime(""), std::nullopt);
}

// Found by watch_frame_fuzzer: a year past what a 64-bit nanosecond clock
// holds overflowed it (undefined behaviour; a wrapped time in practice).
TEST(UtcTime, RefusesTimesTheClockCannotHold) {
  EXPECT_EQ(ParseTime("4052-12-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseTime("9999-12-31T23:59:59Z"), std::nullopt);
  EXPECT_NE(ParseTime("2262-01-01T00:00:00Z"), std::nullopt);
}

}  // namespace
}  // namespace ferry
