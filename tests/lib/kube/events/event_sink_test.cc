// ClusterEventRecorder against a counting in-memory writer and a fake clock:
// series folding, the window, the queue's bound and that Record never waits
// for the API server.
#include "lib/kube/event_sink.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <condition_variable>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/support/fake_clock.h"

namespace ferry::kube {
namespace {

using namespace std::chrono_literals;

// Counts creates and patches of Events and answers as a server would. It can
// hold every call until released, to stand for an API server that hangs.
class CountingWriter final : public ObjectWriter {
 public:
  struct PatchCall {
    std::string name;
    Json patch;
  };

  Result<Json> Get(const ResourceType&, std::string_view, std::string_view,
                   std::string_view) override {
    return MakeError(ErrorCode::kNotFound, "not kept");
  }
  Result<Json> Create(const ResourceType&, const Json& object) override {
    std::unique_lock lock(mu_);
    ++calls_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !blocked_; });
    if (refuse_) return MakeError(ErrorCode::kUnavailable, "server says no");
    creates_.push_back(object);
    Json created = object;
    created["metadata"]["uid"] = "event-uid-" + std::to_string(creates_.size());
    return created;
  }
  Result<Json> Update(const ResourceType&, const Json& object) override { return object; }
  Result<Json> UpdateStatus(const ResourceType&, const Json& object) override { return object; }
  Result<Json> Patch(const ResourceType&, std::string_view, std::string_view name, PatchType type,
                     const Json& patch, std::string_view) override {
    std::unique_lock lock(mu_);
    ++calls_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !blocked_; });
    EXPECT_EQ(type, PatchType::kMerge);
    if (expired_) return MakeError(ErrorCode::kNotFound, "events \"x\" not found");
    patches_.push_back({std::string(name), patch});
    return patch;
  }
  Status Delete(const ResourceType&, std::string_view, std::string_view,
                const DeleteOptions&) override {
    return OkStatus();
  }

  void Block() {
    std::lock_guard lock(mu_);
    blocked_ = true;
  }
  void Release() {
    std::lock_guard lock(mu_);
    blocked_ = false;
    changed_.notify_all();
  }
  // Waits until `n` calls have arrived (held or not).
  void AwaitCalls(int n) {
    std::unique_lock lock(mu_);
    ASSERT_TRUE(changed_.wait_for(lock, 5s, [&] { return calls_ >= n; }));
  }
  void Refuse(bool refuse) {
    std::lock_guard lock(mu_);
    refuse_ = refuse;
  }
  void ExpireEvents(bool expired) {
    std::lock_guard lock(mu_);
    expired_ = expired;
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  std::vector<Json> creates() {
    std::lock_guard lock(mu_);
    return creates_;
  }
  std::vector<PatchCall> patches() {
    std::lock_guard lock(mu_);
    return patches_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool blocked_ = false, refuse_ = false, expired_ = false;
  int calls_ = 0;
  std::vector<Json> creates_;
  std::vector<PatchCall> patches_;
};

Json Rollout(const std::string& name = "coder") {
  return {{"apiVersion", "ferry.dev/v1alpha1"},
          {"kind", "ModelRollout"},
          {"metadata",
           {{"name", name}, {"namespace", "ml"}, {"uid", "uid-" + name}, {"resourceVersion", "7"}}},
          {"spec", {{"big", std::string(4096, 'x')}}}};
}

class EventSinkTest : public ::testing::Test {
 protected:
  std::unique_ptr<ClusterEventRecorder> NewRecorder(ClusterEventRecorderOptions options = {}) {
    options.controller = "ferry.dev/operator";
    options.instance = "operator-0";
    return std::make_unique<ClusterEventRecorder>(writer_, clock_, std::move(options));
  }
  void RecordFailure(EventRecorder& recorder, const std::string& note = "webhook answered 500",
                     const Json& object = Rollout()) {
    recorder.Record(object, EventType::kWarning, "CanaryFailed", "Abort", note);
  }

  CountingWriter writer_;
  testing::FakeClock clock_;
};

TEST_F(EventSinkTest, RepeatsWithinTheWindowPatchOneEventsSeries) {
  auto recorder = NewRecorder();
  for (int i = 0; i < 5; ++i) {
    RecordFailure(*recorder);
    ASSERT_TRUE(recorder->Flush(5s));  // each repeat sent on its own
    clock_.Advance(30s);
  }
  const std::vector<Json> creates = writer_.creates();
  ASSERT_EQ(creates.size(), 1u);
  const Json& event = creates[0];
  EXPECT_EQ(event["eventTime"], FormatMicroTime(testing::FakeClock::DefaultStart()));
  EXPECT_EQ(event["regarding"]["uid"], "uid-coder");
  EXPECT_EQ(event["regarding"]["namespace"], "ml");
  EXPECT_EQ(event["metadata"]["namespace"], "ml");
  EXPECT_EQ(event["reportingInstance"], "operator-0");
  EXPECT_FALSE(event.contains("series"));

  const auto patches = writer_.patches();
  ASSERT_EQ(patches.size(), 4u);
  for (size_t i = 0; i < patches.size(); ++i) {
    EXPECT_EQ(patches[i].name, event["metadata"]["name"]);
    EXPECT_EQ(patches[i].patch["series"]["count"], static_cast<int>(i) + 2);
  }
  EXPECT_EQ(patches.back().patch["series"]["lastObservedTime"],
            FormatMicroTime(testing::FakeClock::DefaultStart() + 4 * 30s));
  EXPECT_EQ(recorder->stats().created, 1u);
  EXPECT_EQ(recorder->stats().repeated, 4u);
}

TEST_F(EventSinkTest, RepeatsQueuedTogetherAreOnePatchWithTheFinalCount) {
  auto recorder = NewRecorder();
  writer_.Block();
  RecordFailure(*recorder);
  writer_.AwaitCalls(1);  // the create is in flight; the rest queue behind it
  for (int i = 0; i < 4; ++i) RecordFailure(*recorder);
  writer_.Release();
  ASSERT_TRUE(recorder->Flush(5s));
  EXPECT_EQ(writer_.creates().size(), 1u);
  const auto patches = writer_.patches();
  ASSERT_EQ(patches.size(), 1u);
  EXPECT_EQ(patches[0].patch["series"]["count"], 5);
  EXPECT_EQ(recorder->stats().folded, 3u);
}

TEST_F(EventSinkTest, AfterTheWindowARepeatIsANewEvent) {
  auto recorder = NewRecorder();
  RecordFailure(*recorder);
  clock_.Advance(5min);
  RecordFailure(*recorder);  // within 6 min of the last: a repeat
  clock_.Advance(5min);
  RecordFailure(*recorder);  // 10 min after the first, 5 after the last: still a repeat
  ASSERT_TRUE(recorder->Flush(5s));
  EXPECT_EQ(writer_.creates().size(), 1u);
  clock_.Advance(6min);
  RecordFailure(*recorder);
  ASSERT_TRUE(recorder->Flush(5s));
  const std::vector<Json> creates = writer_.creates();
  ASSERT_EQ(creates.size(), 2u);
  EXPECT_NE(creates[0]["metadata"]["name"], creates[1]["metadata"]["name"]);
  EXPECT_EQ(creates[1]["eventTime"], FormatMicroTime(testing::FakeClock::DefaultStart() + 16min));
}

TEST_F(EventSinkTest, ADifferentNoteOrObjectIsADifferentEvent) {
  auto recorder = NewRecorder();
  RecordFailure(*recorder, "webhook answered 500");
  RecordFailure(*recorder, "webhook answered 503");
  RecordFailure(*recorder, "webhook answered 500", Rollout("other"));
  recorder->Record(Rollout(), EventType::kNormal, "CanaryFailed", "Abort", "webhook answered 500");
  ASSERT_TRUE(recorder->Flush(5s));
  const std::vector<Json> creates = writer_.creates();
  ASSERT_EQ(creates.size(), 4u);
  std::set<std::string> names;
  for (const Json& event : creates) names.insert(event["metadata"]["name"]);
  EXPECT_EQ(names.size(), 4u) << "the fake clock never moved, yet names stay unique";
  EXPECT_TRUE(writer_.patches().empty());
}

TEST_F(EventSinkTest, RecordReturnsWhileTheServerHangs) {
  auto recorder = NewRecorder();
  writer_.Block();
  RecordFailure(*recorder);
  writer_.AwaitCalls(1);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) RecordFailure(*recorder, "note " + std::to_string(i));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, 500ms) << "Record must not wait for the API server";
  EXPECT_FALSE(recorder->Flush(50ms)) << "nothing can be sent while the server hangs";
  writer_.Release();
  EXPECT_TRUE(recorder->Flush(5s));
  EXPECT_EQ(writer_.creates().size(), 101u);
}

TEST_F(EventSinkTest, AFullQueueDropsAndCounts) {
  std::ostringstream logged;
  ClusterEventRecorderOptions options;
  options.queue_capacity = 3;
  options.log = std::make_shared<spdlog::logger>(
      "events", std::make_shared<spdlog::sinks::ostream_sink_mt>(logged));
  auto recorder = NewRecorder(options);
  writer_.Block();
  RecordFailure(*recorder, "in flight");
  writer_.AwaitCalls(1);
  for (int i = 0; i < 5; ++i) RecordFailure(*recorder, "queued " + std::to_string(i));
  EXPECT_EQ(recorder->dropped(), 2u);
  writer_.Release();
  ASSERT_TRUE(recorder->Flush(5s));
  EXPECT_EQ(writer_.creates().size(), 4u);
  EXPECT_EQ(recorder->stats().dropped, 2u);
  const std::string log = logged.str();
  EXPECT_NE(log.find("event queue full"), std::string::npos) << log;
  EXPECT_EQ(log.find("event queue full"), log.rfind("event queue full"))
      << "one line per log_interval, not one per drop: " << log;
}

TEST_F(EventSinkTest, AnExpiredEventStartsANewOne) {
  auto recorder = NewRecorder();
  RecordFailure(*recorder);
  ASSERT_TRUE(recorder->Flush(5s));
  writer_.ExpireEvents(true);
  RecordFailure(*recorder);
  ASSERT_TRUE(recorder->Flush(5s));
  EXPECT_EQ(writer_.creates().size(), 2u);
  EXPECT_EQ(recorder->stats().failed, 0u);
}

TEST_F(EventSinkTest, ARefusalIsCountedAndNotRetried) {
  auto recorder = NewRecorder();
  writer_.Refuse(true);
  RecordFailure(*recorder);
  ASSERT_TRUE(recorder->Flush(5s));
  EXPECT_EQ(recorder->stats().failed, 1u);
  writer_.Refuse(false);
  ASSERT_TRUE(recorder->Flush(5s));
  EXPECT_TRUE(writer_.creates().empty()) << "a refused event is not sent again";
  RecordFailure(*recorder);  // the next occurrence is the retry
  ASSERT_TRUE(recorder->Flush(5s));
  EXPECT_EQ(writer_.creates().size(), 1u);
  EXPECT_TRUE(writer_.patches().empty());
}

TEST_F(EventSinkTest, RepeatsOfARefusedEventInOneBatchAreNotTried) {
  auto recorder = NewRecorder();
  writer_.Block();
  RecordFailure(*recorder, "first");
  writer_.AwaitCalls(1);
  writer_.Refuse(true);
  for (int i = 0; i < 10; ++i) RecordFailure(*recorder, "second");
  writer_.Release();
  ASSERT_TRUE(recorder->Flush(5s));
  EXPECT_EQ(writer_.calls(), 2) << "one refused create for the ten repeats, not ten";
  EXPECT_EQ(recorder->stats().failed, 11u);
}

TEST_F(EventSinkTest, TheSeriesMapIsBounded) {
  ClusterEventRecorderOptions options;
  options.max_series = 2;
  auto recorder = NewRecorder(options);
  for (const char* note : {"a", "b", "c", "a"}) {
    RecordFailure(*recorder, note);
    ASSERT_TRUE(recorder->Flush(5s));
  }
  EXPECT_EQ(writer_.creates().size(), 4u) << "a was evicted by c";
  RecordFailure(*recorder, "c");
  ASSERT_TRUE(recorder->Flush(5s));
  EXPECT_EQ(writer_.patches().size(), 1u);
}

TEST_F(EventSinkTest, DestructionSendsWhatIsQueued) {
  {
    auto recorder = NewRecorder();
    writer_.Block();
    RecordFailure(*recorder, "one");
    writer_.AwaitCalls(1);
    RecordFailure(*recorder, "two");
    RecordFailure(*recorder, "three");
    writer_.Release();
  }
  EXPECT_EQ(writer_.creates().size(), 3u);
}

TEST_F(EventSinkTest, DestructionGivesUpOnAServerThatHangs) {
  ClusterEventRecorderOptions options;
  options.shutdown_timeout = 100ms;
  auto recorder = NewRecorder(options);
  writer_.Block();
  RecordFailure(*recorder, "one");
  writer_.AwaitCalls(1);
  RecordFailure(*recorder, "two");
  std::thread release([&] {
    std::this_thread::sleep_for(300ms);
    writer_.Release();
  });
  recorder.reset();  // waits out the request in flight, drops "two"
  release.join();
  EXPECT_EQ(writer_.creates().size(), 1u);
}

TEST(TruncateUtf8Test, NeverSplitsACharacter) {
  EXPECT_EQ(TruncateUtf8("short", 10), "short");
  const std::string euros = "\xE2\x82\xAC\xE2\x82\xAC";  // two 3-byte characters
  EXPECT_EQ(TruncateUtf8(euros, 5), "\xE2\x82\xAC");
  EXPECT_EQ(TruncateUtf8(euros, 3), "\xE2\x82\xAC");
  EXPECT_EQ(TruncateUtf8(euros, 2), "");
  EXPECT_EQ(TruncateUtf8(std::string(2000, 'a'), kMaxEventNoteBytes).size(), kMaxEventNoteBytes);
}

}  // namespace
}  // namespace ferry::kube
