// JsonView: strict reads whose errors name the failing path and the type found.
#include "lib/common/json_view.h"

#include <gtest/gtest.h>

#include "lib/common/merge_patch.h"

namespace ferry {
namespace {

using nlohmann::json;

TEST(JsonViewTest, ErrorsNameThePathAndWhatWasFound) {
  const json doc =
      json::parse(R"({"spec": {"steps": [{"pause": {}}, {"pause": {"duration": 5}}]}})");
  JsonView root(doc, "");
  auto steps = root.Required("spec")->RequiredItems("steps");
  ASSERT_TRUE(steps.ok());
  auto duration = (*steps)[1].Required("pause")->RequiredString("duration");
  ASSERT_FALSE(duration.ok());
  EXPECT_EQ(duration.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(duration.error().message,
            "spec.steps[1].pause.duration: expected a string, got a number (5)");
}

TEST(JsonViewTest, AbsentAndNullReadTheSameAndRequiredSaysSo) {
  const json doc = json::parse(R"({"a": null})");
  JsonView root(doc, "status");
  EXPECT_FALSE(root.Has("a"));
  EXPECT_EQ(*root.StringOr("a", "fallback"), "fallback");
  auto missing = root.RequiredString("b");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "status.b: required");
}

TEST(JsonViewTest, IntegersAreIntegersOnly) {
  const json doc = json::parse(R"({"f": 2.0, "s": "2", "n": -1, "big": 18446744073709551615})");
  JsonView root(doc, "x");
  EXPECT_EQ(root.RequiredInt("f").error().message, "x.f: expected an integer, got a number (2.0)");
  EXPECT_EQ(root.RequiredInt("s").error().message,
            "x.s: expected an integer, got a string (\"2\")");
  EXPECT_EQ(root.RequiredUint("n").error().message, "x.n: must not be negative, got -1");
  EXPECT_EQ(root.RequiredInt("big").error().message,
            "x.big: integer 18446744073709551615 is too large");
  auto bounded = root.Required("n")->IntIn(0, 100);
  EXPECT_EQ(bounded.error().message, "x.n: must be between 0 and 100, got -1");
}

TEST(JsonViewTest, TheCodeFollowsTheView) {
  const json doc = json::parse(R"({"files": "nope"})");
  JsonView root(doc, "manifest", ErrorCode::kCorrupt);
  auto files = root.RequiredItems("files");
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.error().code, ErrorCode::kCorrupt);
  EXPECT_EQ(files.error().message, "manifest.files: expected an array, got a string (\"nope\")");
}

TEST(JsonViewTest, OnlyKnownNamesTheStrayField) {
  const json doc = json::parse(R"({"setWeight": 5, "setweight": 6})");
  Status known = JsonView(doc, "steps[0]").OnlyKnown({"setWeight", "pause"});
  ASSERT_FALSE(known.ok());
  EXPECT_EQ(known.error().message, "steps[0].setweight: unknown field");
}

TEST(JsonViewTest, FirstErrorKeepsTheFirstFailure) {
  const json doc = json::parse(R"({"a": 1, "b": "x"})");
  JsonView root(doc, "o");
  FirstError first;
  const std::string a = first(root.RequiredString("a"));
  const int64_t b = first(root.RequiredInt("b"));
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(b, 0);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().message, "o.a: expected a string, got a number (1)");
}

TEST(JsonViewTest, ParseJsonNamesTheDocument) {
  auto parsed = ParseJson("{\"a\":", "journal");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().message.rfind("journal: not valid JSON: ", 0), 0u)
      << parsed.error().message;
}

TEST(MergePatchTest, TheSmallestPatchBetweenTwoDocuments) {
  const json before = json::parse(
      R"({"phase": "Paused", "promote": "step", "nodes": {"ready": 1, "desired": 3}, "history": [1]})");
  const json after = json::parse(
      R"({"phase": "Progressing", "nodes": {"ready": 2, "desired": 3}, "history": [1, 2]})");
  const json patch = MergePatchBetween(before, after);
  EXPECT_EQ(
      patch,
      json::parse(
          R"({"phase": "Progressing", "promote": null, "nodes": {"ready": 2}, "history": [1, 2]})"));
  json applied = before;
  applied.merge_patch(patch);
  EXPECT_EQ(applied, after);
  EXPECT_EQ(MergePatchBetween(after, after), json::object());
}

}  // namespace
}  // namespace ferry
