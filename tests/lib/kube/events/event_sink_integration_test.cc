// ClusterEventRecorder against the real local API server (the `cluster`
// fixture): repeats become one Event with a series, as `kubectl events`
// shows them, and a different note a second Event.
#include <gtest/gtest.h>

#include "lib/kube/event_sink.h"
#include "tests/lib/kube/cluster_client.h"

namespace ferry::kube {
namespace {

using namespace std::chrono_literals;

class EventSinkIntegrationTest : public ClusterTest {
 protected:
  std::vector<Json> EventsAbout(const std::string& name) {
    ListOptions about;
    about.field_selector = "regarding.name=" + name;
    Result<ObjectList> events = client_->List(types::Events(), namespace_, about);
    EXPECT_TRUE(events) << events.error().message;
    return events ? events->items : std::vector<Json>{};
  }

  SystemClock clock_;
};

TEST_F(EventSinkIntegrationTest, RepeatsBecomeOneEventWithACount) {
  Result<Json> object = client_->Create(types::ConfigMaps(), ConfigMap("rollout-stand-in"));
  ASSERT_TRUE(object) << object.error().message;
  (*object)["apiVersion"] = "v1";
  (*object)["kind"] = "ConfigMap";
  ClusterEventRecorder recorder(*client_, clock_,
                                {.controller = "ferry.dev/operator", .instance = "test-replica"});
  for (int i = 0; i < 5; ++i) {
    recorder.Record(*object, EventType::kWarning, "CanaryFailed", "Abort",
                    "analysis webhook answered 500");
    // Sent one at a time, so the server sees a create and four patches.
    ASSERT_TRUE(recorder.Flush(30s));
  }
  recorder.Record(*object, EventType::kWarning, "CanaryFailed", "Abort",
                  "analysis webhook answered 503");
  ASSERT_TRUE(recorder.Flush(30s));
  EXPECT_EQ(recorder.stats().failed, 0u);

  const std::vector<Json> events = EventsAbout("rollout-stand-in");
  ASSERT_EQ(events.size(), 2u);
  const Json* repeated = nullptr;
  const Json* single = nullptr;
  for (const Json& event : events) {
    (event["note"] == "analysis webhook answered 500" ? repeated : single) = &event;
  }
  ASSERT_NE(repeated, nullptr);
  ASSERT_NE(single, nullptr);
  EXPECT_EQ((*repeated)["series"]["count"], 5) << repeated->dump();
  EXPECT_TRUE(ParseTime(StringField(ObjectField(*repeated, "series"), "lastObservedTime")));
  EXPECT_EQ((*repeated)["regarding"]["uid"], Uid(*object));
  EXPECT_EQ((*repeated)["type"], "Warning");
  EXPECT_EQ((*single)["note"], "analysis webhook answered 503");
  EXPECT_FALSE(single->contains("series"));
}

TEST_F(EventSinkIntegrationTest, RepeatsQueuedTogetherLandAsOneCount) {
  Result<Json> object = client_->Create(types::ConfigMaps(), ConfigMap("burst"));
  ASSERT_TRUE(object) << object.error().message;
  (*object)["apiVersion"] = "v1";
  (*object)["kind"] = "ConfigMap";
  ClusterEventRecorder recorder(*client_, clock_,
                                {.controller = "ferry.dev/operator", .instance = "test-replica"});
  for (int i = 0; i < 20; ++i) {
    recorder.Record(*object, EventType::kNormal, "Promoted", "Promote", "step 2 of 4");
  }
  ASSERT_TRUE(recorder.Flush(30s));
  const std::vector<Json> events = EventsAbout("burst");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["series"]["count"], 20) << events[0].dump();
  EXPECT_LT(recorder.stats().created + recorder.stats().repeated, 20u)
      << "a burst must not cost one request per event";
}

}  // namespace
}  // namespace ferry::kube
