#include "lib/kube/rate_limiter.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace ferry::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// A clock that moves only when told to, so bucket timings are exact.
struct FakeClock {
  steady_clock::time_point now{std::chrono::hours(1)};
  NowFunction Function() {
    return [this] { return now; };
  }
};

TEST(ItemExponentialLimiter, DoublesPerFailureFromTheBase) {
  ItemExponentialLimiter limiter;  // defaults: 5 ms base
  EXPECT_EQ(limiter.When("a"), milliseconds(5));
  EXPECT_EQ(limiter.When("a"), milliseconds(10));
  EXPECT_EQ(limiter.When("a"), milliseconds(20));
  EXPECT_EQ(limiter.When("a"), milliseconds(40));
  EXPECT_EQ(limiter.Failures("a"), 4);
}

TEST(ItemExponentialLimiter, ForgetStartsTheKeyAgainAndLeavesOthersAlone) {
  ItemExponentialLimiter limiter(milliseconds(5), milliseconds(1000));
  limiter.When("a");
  limiter.When("a");
  limiter.When("b");
  limiter.Forget("a");
  EXPECT_EQ(limiter.Failures("a"), 0);
  EXPECT_EQ(limiter.When("a"), milliseconds(5));
  EXPECT_EQ(limiter.Failures("b"), 1);
  EXPECT_EQ(limiter.When("b"), milliseconds(10));
}

TEST(ItemExponentialLimiter, StopsAtTheCapAndSurvivesVeryManyFailures) {
  ItemExponentialLimiter limiter(milliseconds(5), milliseconds(100));
  const std::vector<milliseconds> expected = {milliseconds(5),  milliseconds(10),
                                              milliseconds(20), milliseconds(40),
                                              milliseconds(80), milliseconds(100)};
  for (const milliseconds delay : expected) EXPECT_EQ(limiter.When("a"), delay);
  for (int i = 0; i < 10'000; ++i) limiter.When("a");
  EXPECT_EQ(limiter.When("a"), milliseconds(100));
  EXPECT_EQ(limiter.Failures("a"), 10'007);
}

TEST(ItemExponentialLimiter, CountsEveryFailureFromConcurrentCallers) {
  ItemExponentialLimiter limiter;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&limiter] {
      for (int i = 0; i < 1000; ++i) limiter.When("shared");
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(limiter.Failures("shared"), 4000);
}

TEST(TokenBucketLimiter, LetsABurstThroughThenSpacesByTheRate) {
  FakeClock clock;
  TokenBucketLimiter limiter(10.0, 3, clock.Function());
  EXPECT_EQ(limiter.When("a"), milliseconds(0));
  EXPECT_EQ(limiter.When("b"), milliseconds(0));
  EXPECT_EQ(limiter.When("c"), milliseconds(0));
  // The bucket is empty; each further call reserves the next token to be earned.
  EXPECT_EQ(limiter.When("d"), milliseconds(100));
  EXPECT_EQ(limiter.When("e"), milliseconds(200));
  // 100 ms later one token has been earned, but it and the next are already spoken for.
  clock.now += milliseconds(100);
  EXPECT_EQ(limiter.When("f"), milliseconds(200));
  EXPECT_EQ(limiter.Failures("f"), 0);
}

TEST(TokenBucketLimiter, RefillsOnlyUpToTheBurstWhileIdle) {
  FakeClock clock;
  TokenBucketLimiter limiter(10.0, 3, clock.Function());
  for (int i = 0; i < 3; ++i) limiter.When("a");
  clock.now += std::chrono::seconds(60);  // would be 600 tokens without the cap
  EXPECT_EQ(limiter.When("a"), milliseconds(0));
  EXPECT_EQ(limiter.When("a"), milliseconds(0));
  EXPECT_EQ(limiter.When("a"), milliseconds(0));
  EXPECT_EQ(limiter.When("a"), milliseconds(100));
}

TEST(TokenBucketLimiter, EarnsTokensAtTheRateAsTimePasses) {
  FakeClock clock;
  TokenBucketLimiter limiter(10.0, 1, clock.Function());
  EXPECT_EQ(limiter.When("a"), milliseconds(0));
  clock.now += milliseconds(40);
  EXPECT_EQ(limiter.When("a"), milliseconds(60));  // the second token is due at 100 ms
  clock.now += milliseconds(160);                  // now 200 ms: the third is due now
  EXPECT_EQ(limiter.When("a"), milliseconds(0));
}

TEST(TokenBucketLimiter, RoundsFractionalDelaysUp) {
  FakeClock clock;
  TokenBucketLimiter limiter(3.0, 1, clock.Function());  // a token every 333.33 ms
  EXPECT_EQ(limiter.When("a"), milliseconds(0));
  EXPECT_EQ(limiter.When("a"), milliseconds(334));
  EXPECT_EQ(limiter.When("a"), milliseconds(667));
}

TEST(MaxOfLimiter, TakesTheLongestDelayAndForwardsEverything) {
  FakeClock clock;
  std::vector<std::unique_ptr<ItemRateLimiter>> limiters;
  limiters.push_back(std::make_unique<ItemExponentialLimiter>(milliseconds(5), milliseconds(1000)));
  limiters.push_back(std::make_unique<TokenBucketLimiter>(1.0, 2, clock.Function()));
  MaxOfLimiter limiter(std::move(limiters));

  EXPECT_EQ(limiter.When("a"), milliseconds(5));     // the bucket lets it through
  EXPECT_EQ(limiter.When("a"), milliseconds(10));    // still within the burst
  EXPECT_EQ(limiter.When("a"), milliseconds(1000));  // the bucket is empty: 1 qps decides
  EXPECT_EQ(limiter.Failures("a"), 3);
  limiter.Forget("a");
  EXPECT_EQ(limiter.Failures("a"), 0);
  clock.now += std::chrono::seconds(10);
  EXPECT_EQ(limiter.When("a"), milliseconds(5));
}

TEST(DefaultControllerRateLimiter, StartsAtFiveMillisecondsPerKey) {
  const std::unique_ptr<ItemRateLimiter> limiter = DefaultControllerRateLimiter();
  EXPECT_EQ(limiter->When("a"), milliseconds(5));
  EXPECT_EQ(limiter->When("a"), milliseconds(10));
  EXPECT_EQ(limiter->When("b"), milliseconds(5));
  EXPECT_EQ(limiter->Failures("a"), 2);
  limiter->Forget("a");
  EXPECT_EQ(limiter->Failures("a"), 0);
  EXPECT_EQ(limiter->When("a"), milliseconds(5));
}

}  // namespace
}  // namespace ferry::kube
