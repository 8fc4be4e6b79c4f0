#include "lib/kube/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace ferry::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Upper bounds only catch a queue that never delivers; they are far above
// anything a loaded machine needs, so they do not flake.
constexpr milliseconds kGenerous(5000);

std::unique_ptr<ItemRateLimiter> Exponential(milliseconds base) {
  return std::make_unique<ItemExponentialLimiter>(base, milliseconds(10'000));
}

TEST(WorkQueue, TenAddsOfOneKeyQueueItOnce) {
  WorkQueue queue;
  for (int i = 0; i < 10; ++i) queue.Add("ns/a");
  EXPECT_EQ(queue.Len(), 1u);
  EXPECT_EQ(queue.Get(), "ns/a");
  EXPECT_EQ(queue.Len(), 0u);
  queue.Done("ns/a");
  EXPECT_EQ(queue.Len(), 0u);
}

TEST(WorkQueue, HandsOutReadyKeysInFirstAddedOrder) {
  WorkQueue queue;
  for (const char* key : {"c", "a", "b", "c", "a"}) queue.Add(key);
  EXPECT_EQ(queue.Len(), 3u);
  EXPECT_EQ(queue.Get(), "c");
  EXPECT_EQ(queue.Get(), "a");
  EXPECT_EQ(queue.Get(), "b");
}

TEST(WorkQueue, KeyAddedWhileProcessingComesBackOnlyAfterDone) {
  WorkQueue queue;
  queue.Add("a");
  ASSERT_EQ(queue.Get(), "a");
  queue.Add("a");
  queue.Add("a");
  EXPECT_EQ(queue.Len(), 0u);  // held back while "a" is processing
  queue.Add("b");
  EXPECT_EQ(queue.Get(), "b");  // not "a": the one worker still holds it
  queue.Done("b");
  EXPECT_EQ(queue.Len(), 0u);
  queue.Done("a");
  EXPECT_EQ(queue.Len(), 1u);  // the adds made meanwhile count once
  EXPECT_EQ(queue.Get(), "a");
  queue.Done("a");
  EXPECT_EQ(queue.Len(), 0u);
}

TEST(WorkQueue, GetBlocksUntilAKeyIsAdded) {
  WorkQueue queue;
  std::future<std::optional<std::string>> got =
      std::async(std::launch::async, [&queue] { return queue.Get(); });
  EXPECT_EQ(got.wait_for(milliseconds(30)), std::future_status::timeout);
  queue.Add("a");
  ASSERT_EQ(got.wait_for(kGenerous), std::future_status::ready);
  EXPECT_EQ(got.get(), "a");
}

TEST(WorkQueue, AddAfterIsNotDeliveredEarly) {
  WorkQueue queue;
  const auto start = steady_clock::now();
  queue.AddAfter("a", milliseconds(100));
  EXPECT_EQ(queue.Len(), 0u);
  EXPECT_EQ(queue.Get(), "a");
  EXPECT_GE(steady_clock::now() - start, milliseconds(100));
}

TEST(WorkQueue, AddAfterDeliversInReadyTimeOrder) {
  WorkQueue queue;
  queue.AddAfter("late", milliseconds(90));
  queue.AddAfter("early", milliseconds(30));
  queue.AddAfter("middle", milliseconds(60));
  queue.Add("now");
  EXPECT_EQ(queue.Get(), "now");
  EXPECT_EQ(queue.Get(), "early");
  EXPECT_EQ(queue.Get(), "middle");
  EXPECT_EQ(queue.Get(), "late");
}

TEST(WorkQueue, AddAfterWithoutADelayAddsAtOnce) {
  WorkQueue queue;
  queue.AddAfter("a", milliseconds(0));
  queue.AddAfter("b", milliseconds(-5));
  EXPECT_EQ(queue.Len(), 2u);
}

TEST(WorkQueue, AKeyWaitingTwiceKeepsTheEarlierTime) {
  WorkQueue queue;
  const auto start = steady_clock::now();
  queue.AddAfter("a", std::chrono::seconds(60));
  queue.AddAfter("a", milliseconds(20));
  queue.AddAfter("a", std::chrono::seconds(30));  // later than the one kept: no effect
  EXPECT_EQ(queue.Get(), "a");
  const auto waited = steady_clock::now() - start;
  EXPECT_GE(waited, milliseconds(20));
  EXPECT_LT(waited, kGenerous);
  queue.Done("a");
  EXPECT_EQ(queue.Len(), 0u);
}

TEST(WorkQueue, BlockedGetWakesForASoonerDelayedKey) {
  WorkQueue queue;
  queue.AddAfter("far", std::chrono::seconds(60));
  std::future<std::optional<std::string>> got =
      std::async(std::launch::async, [&queue] { return queue.Get(); });
  std::this_thread::sleep_for(milliseconds(20));  // let it go to sleep on the far deadline
  queue.AddAfter("near", milliseconds(20));
  ASSERT_EQ(got.wait_for(kGenerous), std::future_status::ready);
  EXPECT_EQ(got.get(), "near");
}

TEST(WorkQueue, DelayedKeyThatComesDueWhileProcessingWaitsForDone) {
  WorkQueue queue;
  queue.Add("a");
  ASSERT_EQ(queue.Get(), "a");
  queue.AddAfter("a", milliseconds(10));
  std::this_thread::sleep_for(milliseconds(30));
  EXPECT_EQ(queue.Len(), 0u);
  queue.Done("a");
  EXPECT_EQ(queue.Len(), 1u);
}

TEST(WorkQueue, AddRateLimitedWaitsForTheLimiterAndForgetResetsIt) {
  WorkQueue queue(Exponential(milliseconds(40)));
  const auto start = steady_clock::now();
  queue.AddRateLimited("a");
  EXPECT_EQ(queue.NumRequeues("a"), 1);
  EXPECT_EQ(queue.Len(), 0u);
  EXPECT_EQ(queue.Get(), "a");
  EXPECT_GE(steady_clock::now() - start, milliseconds(40));

  const auto again = steady_clock::now();
  queue.AddRateLimited("a");  // due after 80 ms, and not before Done
  queue.Done("a");
  EXPECT_EQ(queue.Get(), "a");
  EXPECT_GE(steady_clock::now() - again, milliseconds(80));
  EXPECT_EQ(queue.NumRequeues("a"), 2);

  queue.Forget("a");
  EXPECT_EQ(queue.NumRequeues("a"), 0);
}

TEST(WorkQueue, ShutDownWakesEveryBlockedGet) {
  WorkQueue queue;
  std::vector<std::future<std::optional<std::string>>> gets;
  for (int i = 0; i < 3; ++i) {
    gets.push_back(std::async(std::launch::async, [&queue] { return queue.Get(); }));
  }
  std::this_thread::sleep_for(milliseconds(20));
  queue.ShutDown();
  for (auto& got : gets) {
    ASSERT_EQ(got.wait_for(kGenerous), std::future_status::ready);
    EXPECT_EQ(got.get(), std::nullopt);
  }
  EXPECT_TRUE(queue.ShuttingDown());
}

TEST(WorkQueue, ShutDownDropsTheBacklogAndIgnoresLaterAdds) {
  WorkQueue queue;
  queue.Add("a");
  queue.AddAfter("b", milliseconds(10));
  queue.ShutDown();
  queue.ShutDown();  // idempotent
  EXPECT_EQ(queue.Len(), 0u);
  EXPECT_EQ(queue.Get(), std::nullopt);
  queue.Add("c");
  queue.AddAfter("d", milliseconds(1));
  queue.AddRateLimited("e");
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(queue.Len(), 0u);
  EXPECT_EQ(queue.Get(), std::nullopt);
}

TEST(WorkQueue, DoneAfterShutDownDoesNotQueueADirtyKey) {
  WorkQueue queue;
  queue.Add("a");
  ASSERT_EQ(queue.Get(), "a");
  queue.Add("a");
  queue.ShutDown();
  queue.Done("a");
  EXPECT_EQ(queue.Len(), 0u);
  EXPECT_EQ(queue.Get(), std::nullopt);
}

TEST(WorkQueue, ShutDownWithDrainWaitsForKeysInFlight) {
  WorkQueue queue;
  queue.Add("a");
  queue.Add("b");
  ASSERT_EQ(queue.Get(), "a");
  ASSERT_EQ(queue.Get(), "b");
  std::future<void> drained =
      std::async(std::launch::async, [&queue] { queue.ShutDownWithDrain(); });
  EXPECT_EQ(drained.wait_for(milliseconds(30)), std::future_status::timeout);
  queue.Done("a");
  EXPECT_EQ(drained.wait_for(milliseconds(30)), std::future_status::timeout);
  queue.Done("b");
  EXPECT_EQ(drained.wait_for(kGenerous), std::future_status::ready);
  EXPECT_EQ(queue.Get(), std::nullopt);
}

// Producers add random keys while four workers process them. No key may be
// held by two workers at once, and no add may be lost: every key's last add is
// followed by a pass that saw it.
TEST(WorkQueue, HammeredKeysAreNeverProcessedTwiceAtOnceNorLost) {
  constexpr int kKeys = 8;
  constexpr int kWorkers = 4;
  constexpr int kProducers = 2;
  constexpr int kAddsPerProducer = 5000;
  WorkQueue queue;
  std::vector<std::atomic<bool>> in_flight(kKeys);
  std::vector<std::atomic<int>> added(kKeys);  // the generation of the key's last add
  std::vector<std::atomic<int>> seen(kKeys);   // the generation its last pass started from
  std::atomic<int> generation{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> passes{0};

  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&] {
      while (std::optional<std::string> key = queue.Get()) {
        const int k = std::stoi(*key);
        if (in_flight[k].exchange(true)) ++overlaps;
        seen[k].store(added[k].load());
        ++passes;
        // Widens the window in which a second worker could slip in.
        std::this_thread::sleep_for(std::chrono::microseconds(50));
        in_flight[k].store(false);
        queue.Done(*key);
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      std::mt19937 random(p);
      std::uniform_int_distribution<int> pick(0, kKeys - 1);
      for (int i = 0; i < kAddsPerProducer; ++i) {
        const int k = pick(random);
        // Recorded before the add, so a pass that reads it must come after it.
        added[k].store(++generation);
        queue.Add(std::to_string(k));
        // Pauses now and then so workers catch up and keys cycle through Get and Done.
        if (i % 50 == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    });
  }
  for (std::thread& producer : producers) producer.join();

  const auto deadline = steady_clock::now() + kGenerous;
  auto all_seen = [&] {
    for (int k = 0; k < kKeys; ++k) {
      if (seen[k].load() != added[k].load()) return false;
    }
    return true;
  };
  while (!all_seen() && steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(1));
  queue.ShutDown();
  for (std::thread& worker : workers) worker.join();

  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_TRUE(all_seen());
  // De-duplication folds adds together; there are never more passes than adds.
  EXPECT_LE(passes.load(), kProducers * kAddsPerProducer);
  EXPECT_GE(passes.load(), kKeys);
}

}  // namespace
}  // namespace ferry::kube
