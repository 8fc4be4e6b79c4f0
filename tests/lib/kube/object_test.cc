// The object helpers read what is there and give empty values for what is
// not; owner references keep one controller; API times round-trip; a
// condition's lastTransitionTime moves only when its status does.
#include "lib/kube/object.h"

#include <gtest/gtest.h>

#include <chrono>

namespace ferry::kube {
namespace {

using std::chrono::microseconds;
using std::chrono::seconds;
using std::chrono::system_clock;

Json Pod() {
  return Json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "web-0", "namespace": "shop", "uid": "u-1", "resourceVersion": "42",
                 "labels": {"app": "web", "tier": "front", "count": 3}}
  })");
}

TEST(ObjectFields, ReadsMetadata) {
  const Json pod = Pod();
  EXPECT_EQ(Name(pod), "web-0");
  EXPECT_EQ(Namespace(pod), "shop");
  EXPECT_EQ(Uid(pod), "u-1");
  EXPECT_EQ(ResourceVersionOf(pod), "42");
  // A label whose value is not a string is not a label.
  EXPECT_EQ(Labels(pod), (std::map<std::string, std::string>{{"app", "web"}, {"tier", "front"}}));
  EXPECT_FALSE(IsBeingDeleted(pod));
}

TEST(ObjectFields, MissingOrMistypedFieldsReadAsEmpty) {
  for (const Json& object : {Json(), Json::object(), Json::array(), Json("text"),
                             Json::parse(R"({"metadata": "not an object"})"),
                             Json::parse(R"({"metadata": {"name": 7, "labels": ["a"]}})")}) {
    EXPECT_EQ(Name(object), "") << object.dump();
    EXPECT_EQ(Namespace(object), "") << object.dump();
    EXPECT_EQ(Uid(object), "") << object.dump();
    EXPECT_EQ(ResourceVersionOf(object), "") << object.dump();
    EXPECT_TRUE(Labels(object).empty()) << object.dump();
    EXPECT_FALSE(IsBeingDeleted(object)) << object.dump();
  }
}

TEST(JsonFields, ReadWhatHasTheRightTypeAndFallBackOtherwise) {
  const Json object = Json::parse(
      R"({"s": "text", "i": 42, "f": 1.5, "b": true, "o": {"k": "v"}, "n": null, "a": [1]})");
  EXPECT_EQ(StringField(object, "s"), "text");
  EXPECT_EQ(StringField(object, "i"), "");
  EXPECT_EQ(StringField(object, "missing", "fallback"), "fallback");
  EXPECT_EQ(StringField(object, "n", "fallback"), "fallback");
  EXPECT_EQ(IntField(object, "i"), 42);
  EXPECT_EQ(IntField(object, "f", -1), -1);  // not an integer
  EXPECT_EQ(IntField(object, "s", -1), -1);
  EXPECT_TRUE(BoolField(object, "b"));
  EXPECT_TRUE(BoolField(object, "s", true));
  EXPECT_FALSE(BoolField(object, "i"));
  EXPECT_EQ(ObjectField(object, "o"), Json::parse(R"({"k": "v"})"));
  EXPECT_EQ(ObjectField(object, "a"), Json::object());
  EXPECT_EQ(ObjectField(object, "missing"), Json::object());
}

TEST(JsonFields, AReceiverThatIsNotAnObjectGivesTheFallback) {
  for (const Json& receiver : {Json(), Json::array({1, 2}), Json("s"), Json(3)}) {
    EXPECT_EQ(StringField(receiver, "k", "f"), "f") << receiver.dump();
    EXPECT_EQ(IntField(receiver, "k", 7), 7) << receiver.dump();
    EXPECT_FALSE(BoolField(receiver, "k")) << receiver.dump();
    EXPECT_EQ(ObjectField(receiver, "k"), Json::object()) << receiver.dump();
  }
}

TEST(ObjectFields, ADeletionTimestampMeansBeingDeleted) {
  Json pod = Pod();
  pod["metadata"]["deletionTimestamp"] = "2024-05-01T10:00:00Z";
  EXPECT_TRUE(IsBeingDeleted(pod));
}

TEST(ObjectKey, IsNamespaceSlashNameOrTheBareNameWhenClusterScoped) {
  EXPECT_EQ(ObjectKey(Pod()), "shop/web-0");
  EXPECT_EQ(ObjectKey(Json::parse(R"({"metadata": {"name": "node-1"}})")), "node-1");
  EXPECT_EQ(ObjectKey("ns", "x"), "ns/x");
  EXPECT_EQ(ObjectKey("", "x"), "x");
}

TEST(ObjectKey, SplitsBackIntoNamespaceAndName) {
  EXPECT_EQ(SplitObjectKey("shop/web-0"), (std::pair<std::string, std::string>{"shop", "web-0"}));
  EXPECT_EQ(SplitObjectKey("node-1"), (std::pair<std::string, std::string>{"", "node-1"}));
  for (const std::string key : {"a/b", "b", "ns/with.dots-and-dashes"}) {
    const auto [ns, name] = SplitObjectKey(key);
    EXPECT_EQ(ObjectKey(ns, name), key);
  }
}

Json Owner(const std::string& kind, const std::string& name, const std::string& uid) {
  return {{"apiVersion", "ferry.dev/v1alpha1"},
          {"kind", kind},
          {"metadata", {{"name", name}, {"namespace", "shop"}, {"uid", uid}}}};
}

TEST(ControllerReference, SetsOneControllingOwnerReference) {
  Json pod = Pod();
  SetControllerReference(pod, Owner("ModelVersion", "coder", "uid-a"));
  const Json& references = pod["metadata"]["ownerReferences"];
  ASSERT_EQ(references.size(), 1u);
  EXPECT_EQ(references[0], Json::parse(R"({"apiVersion": "ferry.dev/v1alpha1",
      "kind": "ModelVersion", "name": "coder", "uid": "uid-a", "controller": true,
      "blockOwnerDeletion": true})"));
  EXPECT_EQ(ControllerKeyOf(pod, "ModelVersion"), "shop/coder");
}

TEST(ControllerReference, ReplacesAnExistingControllerAndKeepsOtherOwners) {
  Json pod = Pod();
  pod["metadata"]["ownerReferences"] = Json::parse(R"([
    {"apiVersion": "v1", "kind": "ConfigMap", "name": "plain-owner", "uid": "uid-p"},
    {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "old", "uid": "uid-o",
     "controller": true}
  ])");
  SetControllerReference(pod, Owner("ModelVersion", "coder", "uid-a"));
  const Json& references = pod["metadata"]["ownerReferences"];
  ASSERT_EQ(references.size(), 2u);
  EXPECT_EQ(references[0]["name"], "plain-owner");
  EXPECT_EQ(references[1]["name"], "coder");
  EXPECT_EQ(references[1]["uid"], "uid-a");
  EXPECT_EQ(ControllerKeyOf(pod, "ReplicaSet"), std::nullopt);
  EXPECT_EQ(ControllerKeyOf(pod, "ModelVersion"), "shop/coder");
}

TEST(ControllerReference, SettingTheSameOwnerTwiceLeavesOneReference) {
  Json pod = Pod();
  SetControllerReference(pod, Owner("ModelVersion", "coder", "uid-a"));
  SetControllerReference(pod, Owner("ModelVersion", "coder", "uid-a"));
  EXPECT_EQ(pod["metadata"]["ownerReferences"].size(), 1u);
}

TEST(ControllerKeyOf, OnlyTheControllingOwnerOfThatKindCounts) {
  Json pod = Pod();
  EXPECT_EQ(ControllerKeyOf(pod, "ModelVersion"), std::nullopt);
  pod["metadata"]["ownerReferences"] = Json::parse(R"([
    {"kind": "ModelVersion", "name": "not-controller", "uid": "1"},
    {"kind": "ModelVersion", "name": "explicitly-not", "uid": "2", "controller": false}
  ])");
  EXPECT_EQ(ControllerKeyOf(pod, "ModelVersion"), std::nullopt);
  EXPECT_EQ(ControllerKeyOf(Json::parse(R"({"metadata": {"ownerReferences": "x"}})"), "A"),
            std::nullopt);
}

TEST(ControllerKeyOf, MistypedOwnerReferencesAreSkippedNotThrownOn) {
  const Json pod = Json::parse(R"({"metadata": {"namespace": "shop", "ownerReferences": [
    "not an object", {"kind": "ModelVersion", "name": "x", "controller": "true"},
    {"kind": "ModelVersion", "name": "real", "controller": true}]}})");
  std::optional<std::string> key;
  EXPECT_NO_THROW(key = ControllerKeyOf(pod, "ModelVersion"));
  EXPECT_EQ(key, "shop/real");
}

TEST(ControllerKeyOf, AClusterScopedObjectGivesTheBareOwnerName) {
  const Json node = Json::parse(R"({"metadata": {"name": "n", "ownerReferences": [
    {"kind": "ModelNode", "name": "mn", "uid": "1", "controller": true}]}})");
  EXPECT_EQ(ControllerKeyOf(node, "ModelNode"), "mn");
}

// ----- time -----

system_clock::time_point At(int64_t unix_seconds, int64_t micros = 0) {
  return system_clock::time_point(seconds(unix_seconds)) + microseconds(micros);
}

// ----- conditions -----

Condition Ready(const std::string& status, const std::string& reason = "Reason",
                const std::string& message = "") {
  Condition condition;
  condition.type = "Ready";
  condition.status = status;
  condition.reason = reason;
  condition.message = message;
  return condition;
}

TEST(Conditions, AddingAConditionStampsItsTransitionTime) {
  Json status = Json::object();
  EXPECT_TRUE(SetCondition(status, Ready("False", "Pulling", "2 of 5 nodes"), At(1000)));
  const Json& condition = status["conditions"][0];
  EXPECT_EQ(condition["type"], "Ready");
  EXPECT_EQ(condition["status"], "False");
  EXPECT_EQ(condition["reason"], "Pulling");
  EXPECT_EQ(condition["message"], "2 of 5 nodes");
  EXPECT_EQ(condition["lastTransitionTime"], FormatTime(At(1000)));
  EXPECT_FALSE(condition.contains("observedGeneration"));
}

TEST(Conditions, TheSameConditionAgainChangesNothing) {
  Json status = Json::object();
  SetCondition(status, Ready("True"), At(1000));
  const Json before = status;
  EXPECT_FALSE(SetCondition(status, Ready("True"), At(2000)));
  EXPECT_EQ(status, before);
}

TEST(Conditions, ANewReasonOrMessageKeepsTheTransitionTime) {
  Json status = Json::object();
  SetCondition(status, Ready("False", "Pulling", "1 of 5"), At(1000));
  EXPECT_TRUE(SetCondition(status, Ready("False", "Verifying", "4 of 5"), At(2000)));
  const Json& condition = status["conditions"][0];
  EXPECT_EQ(condition["reason"], "Verifying");
  EXPECT_EQ(condition["message"], "4 of 5");
  EXPECT_EQ(condition["lastTransitionTime"], FormatTime(At(1000)));
}

TEST(Conditions, ANewStatusMovesTheTransitionTime) {
  Json status = Json::object();
  SetCondition(status, Ready("False"), At(1000));
  EXPECT_TRUE(SetCondition(status, Ready("True"), At(2000)));
  EXPECT_EQ(status["conditions"][0]["status"], "True");
  EXPECT_EQ(status["conditions"][0]["lastTransitionTime"], FormatTime(At(2000)));
  ASSERT_EQ(status["conditions"].size(), 1u);
}

TEST(Conditions, OtherTypesAreLeftAlone) {
  Json status = Json::object();
  Condition degraded = Ready("False", "AllGood");
  degraded.type = "Degraded";
  SetCondition(status, degraded, At(1000));
  SetCondition(status, Ready("True"), At(2000));
  SetCondition(status, Ready("False"), At(3000));
  ASSERT_EQ(status["conditions"].size(), 2u);
  EXPECT_EQ(status["conditions"][0]["type"], "Degraded");
  EXPECT_EQ(status["conditions"][0]["lastTransitionTime"], FormatTime(At(1000)));
}

TEST(Conditions, ObservedGenerationIsStoredAndReadBack) {
  Json status = Json::object();
  Condition ready = Ready("True");
  ready.observed_generation = 7;
  SetCondition(status, ready, At(1000));
  EXPECT_EQ(status["conditions"][0]["observedGeneration"], 7);
  ready.observed_generation = 8;
  EXPECT_TRUE(SetCondition(status, ready, At(2000)));
  EXPECT_EQ(status["conditions"][0]["lastTransitionTime"], FormatTime(At(1000)));
  const std::optional<Condition> found = FindCondition(status, "Ready");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->observed_generation, 8);
}

TEST(Conditions, FindConditionReadsWhatWasSet) {
  Json status = Json::object();
  EXPECT_EQ(FindCondition(status, "Ready"), std::nullopt);
  SetCondition(status, Ready("Unknown", "Starting", "waiting for nodes"), At(1000));
  const std::optional<Condition> found = FindCondition(status, "Ready");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->type, "Ready");
  EXPECT_EQ(found->status, "Unknown");
  EXPECT_EQ(found->reason, "Starting");
  EXPECT_EQ(found->message, "waiting for nodes");
  EXPECT_EQ(FindCondition(status, "Degraded"), std::nullopt);
  EXPECT_EQ(FindCondition(Json::parse(R"({"conditions": "broken"})"), "Ready"), std::nullopt);
}

TEST(Conditions, MistypedEntriesAreNotThrownOn) {
  Json status = Json::parse(R"({"conditions": ["junk", {"type": 5}, {"type": "Ready",
      "status": "True", "reason": "Done", "message": "", "lastTransitionTime": "t0"}]})");
  std::optional<Condition> found;
  EXPECT_NO_THROW(found = FindCondition(status, "Ready"));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->reason, "Done");
  bool changed = true;
  EXPECT_NO_THROW(changed = SetCondition(status, Ready("True", "Done"), At(1000)));
  EXPECT_FALSE(changed);
}

TEST(Conditions, AStatusWithoutAConditionsListGetsOne) {
  Json status = Json::parse(R"({"phase": "Ready", "conditions": null})");
  EXPECT_TRUE(SetCondition(status, Ready("True"), At(1000)));
  EXPECT_EQ(status["phase"], "Ready");
  EXPECT_EQ(status["conditions"].size(), 1u);
}

}  // namespace
}  // namespace ferry::kube
