// The XID store: events in order with sequence numbers, bounded, counts per
// GPU, and safe to record from several threads.
#include "lib/gpu/xid_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace ferry::gpu {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

std::vector<uint64_t> Sequences(const std::vector<XidEvent>& events) {
  std::vector<uint64_t> sequences;
  for (const XidEvent& event : events) sequences.push_back(event.sequence);
  return sequences;
}

TEST(XidStore, RecordsEventsInOrder) {
  XidStore store;
  store.Record(0, 79, kNow);
  store.Record(1, 13, kNow + std::chrono::seconds(1));
  const std::vector<XidEvent> events = store.EventsAfter(0);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].sequence, 1u);
  EXPECT_EQ(events[0].gpu_index, 0u);
  EXPECT_EQ(events[0].xid, 79u);
  EXPECT_EQ(events[0].seen_at, kNow);
  EXPECT_EQ(events[1].sequence, 2u);
  EXPECT_EQ(events[1].gpu_index, 1u);
  EXPECT_EQ(events[1].xid, 13u);
  EXPECT_THAT(Sequences(store.EventsAfter(1)), ElementsAre(2u));
  EXPECT_THAT(store.EventsAfter(2), IsEmpty());
  EXPECT_EQ(store.recorded(), 2u);
}

TEST(XidStore, KeepsOnlyTheNewestEventsButCountsAll) {
  XidStore store(3);
  for (int i = 0; i < 5; ++i) store.Record(0, 79, kNow);
  EXPECT_THAT(Sequences(store.EventsAfter(0)), ElementsAre(3u, 4u, 5u));
  EXPECT_EQ(store.recorded(), 5u);
  EXPECT_THAT(store.CountsFor(0), ElementsAre(Pair(79u, 5u)));
}

TEST(XidStore, CountsPerGpuIncludeEventsThatNamedNoGpu) {
  XidStore store;
  store.Record(0, 79, kNow);
  store.Record(0, 79, kNow);
  store.Record(1, 13, kNow);
  store.Record(std::nullopt, 48, kNow);
  EXPECT_THAT(store.CountsFor(0), ElementsAre(Pair(48u, 1u), Pair(79u, 2u)));
  EXPECT_THAT(store.CountsFor(1), ElementsAre(Pair(13u, 1u), Pair(48u, 1u)));
  EXPECT_THAT(store.CountsFor(7), ElementsAre(Pair(48u, 1u)));
}

TEST(XidStore, DistinctXidsPerGpuAreBounded) {
  XidStore store;
  for (uint64_t xid = 0; xid < XidStore::kMaxDistinctXids + 10; ++xid) store.Record(0, xid, kNow);
  EXPECT_EQ(store.CountsFor(0).size(), XidStore::kMaxDistinctXids);
  EXPECT_EQ(store.recorded(), XidStore::kMaxDistinctXids + 10);
}

TEST(XidStore, RecordsFromManyThreadsAreAllCounted) {
  XidStore store(64);
  {
    std::vector<std::jthread> threads;
    for (unsigned gpu = 0; gpu < 4; ++gpu) {
      threads.emplace_back([&store, gpu] {
        for (int i = 0; i < 1000; ++i) store.Record(gpu, 79, kNow);
      });
    }
  }
  EXPECT_EQ(store.recorded(), 4000u);
  for (unsigned gpu = 0; gpu < 4; ++gpu)
    EXPECT_THAT(store.CountsFor(gpu), ElementsAre(Pair(79u, 1000u)));
  EXPECT_THAT(Sequences(store.EventsAfter(3999)), ElementsAre(4000u));
}

}  // namespace
}  // namespace ferry::gpu
