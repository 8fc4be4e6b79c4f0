#include "lib/kube/backoff.h"

#include <gtest/gtest.h>

#include <set>

namespace ferry::kube {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, DoublesUpToTheCapWithoutJitter) {
  Backoff backoff({.initial = milliseconds(100), .max = milliseconds(1000), .jitter = 0});
  EXPECT_EQ(backoff.Next(), milliseconds(100));
  EXPECT_EQ(backoff.Next(), milliseconds(200));
  EXPECT_EQ(backoff.Next(), milliseconds(400));
  EXPECT_EQ(backoff.Next(), milliseconds(800));
  EXPECT_EQ(backoff.Next(), milliseconds(1000));
  EXPECT_EQ(backoff.Next(), milliseconds(1000));
  EXPECT_EQ(backoff.failures(), 6);
}

TEST(Backoff, ResetStartsAgainFromTheInitialDelay) {
  Backoff backoff({.initial = milliseconds(50), .max = milliseconds(1000), .jitter = 0});
  backoff.Next();
  backoff.Next();
  backoff.Reset();
  EXPECT_EQ(backoff.Next(), milliseconds(50));
}

TEST(Backoff, JitterStaysWithinItsFractionAndVaries) {
  Backoff backoff({.initial = milliseconds(1000), .max = milliseconds(1000), .jitter = 0.5}, 42);
  std::set<int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    const milliseconds delay = backoff.Next();
    EXPECT_GE(delay, milliseconds(500));
    EXPECT_LE(delay, milliseconds(1000));
    seen.insert(delay.count());
  }
  EXPECT_GT(seen.size(), 50u);  // spread out, not one fixed value
}

TEST(Backoff, SurvivesVeryManyFailuresWithoutOverflow) {
  Backoff backoff({.initial = milliseconds(10), .max = milliseconds(30'000), .jitter = 0});
  for (int i = 0; i < 10'000; ++i) backoff.Next();
  EXPECT_EQ(backoff.Next(), milliseconds(30'000));
}

}  // namespace
}  // namespace ferry::kube
