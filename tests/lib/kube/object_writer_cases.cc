// The write semantics of the API server, as cases over an ObjectWriter, so
// that one text states them and two programs check them: on FakeCluster
// (object_writer_test.cc, a unit test) and on a kube::Client against the
// real control plane (object_writer_integration_test.cc). A case that passes
// on the cluster and fails on the fake is a bug in the fake.
//
// Each program defines the functions of writer_target below: a writer and a
// namespace of the test's own, fresh for every test.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "lib/kube/object.h"
#include "lib/kube/object_writer.h"
#include "lib/kube/resource.h"

namespace ferry::kube::writer_target {
// Names the target in test names ("…/FakeCluster", "…/Cluster"), so that the
// two programs' tests do not share CTest names (and labels, and fixtures).
const char* Name();
void SetUp();
void TearDown();
ObjectWriter& Writer();
std::string Namespace();
}  // namespace ferry::kube::writer_target

namespace ferry::kube {
namespace {

class ObjectWriterTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    writer_target::SetUp();
    if (HasFatalFailure()) return;  // no target: gtest skips the body
    ns_ = writer_target::Namespace();
  }
  void TearDown() override { writer_target::TearDown(); }

  ObjectWriter& writer() { return writer_target::Writer(); }

  Json ConfigMap(const std::string& name, const Json& data = Json::object()) const {
    return {{"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata", {{"name", name}, {"namespace", ns_}}},
            {"data", data}};
  }
  // A valid ModelVersion (crds/modelversion.yaml): its status is a subresource.
  Json ModelVersion(const std::string& name) const {
    return {{"apiVersion", "ferry.dev/v1alpha1"},
            {"kind", "ModelVersion"},
            {"metadata", {{"name", name}, {"namespace", ns_}}},
            {"spec",
             {{"model", "coder"},
              {"version", "1.0.0"},
              {"source",
               {{"repository", "http://repo.example:8080"},
                {"publicKeySecretRef", {{"name", "signing-key"}}}}}}}};
  }
  Json Created(const ResourceType& type, const Json& object) {
    Result<Json> created = writer().Create(type, object);
    EXPECT_TRUE(created) << created.error().message;
    return created ? *created : Json::object();
  }
  // How a Get of the object fails; nullopt when it is there.
  std::optional<ErrorCode> GetFails(const ResourceType& type, const std::string& name) {
    Result<Json> got = writer().Get(type, ns_, name);
    if (got) return std::nullopt;
    return got.error().code;
  }
  // The real garbage collector and finalizer handling are asynchronous.
  static bool Eventually(const std::function<bool()>& condition) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!condition()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
  }

  std::string ns_;
};

int64_t Generation(const Json& object) {
  return IntField(ObjectField(object, "metadata"), "generation");
}

TEST_P(ObjectWriterTest, CreateFillsServerFieldsAndTwiceIsAlreadyExists) {
  Json created = Created(types::ConfigMaps(), ConfigMap("twice", {{"a", "1"}}));
  EXPECT_FALSE(Uid(created).empty());
  EXPECT_FALSE(ResourceVersionOf(created).empty());
  EXPECT_FALSE(StringField(created["metadata"], "creationTimestamp").empty());
  EXPECT_EQ(created["data"]["a"], "1");
  // ConfigMaps carry no generation; custom resources do.
  EXPECT_FALSE(created["metadata"].contains("generation"));

  Result<Json> again = writer().Create(types::ConfigMaps(), ConfigMap("twice"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists) << again.error().message;

  Result<Json> got = writer().Get(types::ConfigMaps(), ns_, "twice");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(ResourceVersionOf(*got), ResourceVersionOf(created));
}

TEST_P(ObjectWriterTest, MissingObjectsAreNotFound) {
  EXPECT_EQ(GetFails(types::ConfigMaps(), "absent"), ErrorCode::kNotFound);
  Result<Json> updated = writer().Update(types::ConfigMaps(), ConfigMap("absent"));
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, ErrorCode::kNotFound);
  Result<Json> patched = writer().Patch(types::ConfigMaps(), ns_, "absent", PatchType::kMerge,
                                        {{"data", {{"a", "1"}}}});
  ASSERT_FALSE(patched);
  EXPECT_EQ(patched.error().code, ErrorCode::kNotFound);
  Status deleted = writer().Delete(types::ConfigMaps(), ns_, "absent");
  ASSERT_FALSE(deleted);
  EXPECT_EQ(deleted.error().code, ErrorCode::kNotFound);
  Result<Json> status = writer().UpdateStatus(types::ModelVersions(), ModelVersion("absent"));
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kNotFound);
}

TEST_P(ObjectWriterTest, ConfigMapsHaveNoStatusSubresource) {
  Json created = Created(types::ConfigMaps(), ConfigMap("plain"));
  Result<Json> status = writer().UpdateStatus(types::ConfigMaps(), created);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kNotFound) << status.error().message;
}

TEST_P(ObjectWriterTest, StaleResourceVersionConflictsOnUpdate) {
  Json first = Created(types::ConfigMaps(), ConfigMap("cas", {{"n", "1"}}));
  Json second = first;
  second["data"]["n"] = "2";
  Result<Json> updated = writer().Update(types::ConfigMaps(), second);
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_NE(ResourceVersionOf(*updated), ResourceVersionOf(first));

  Json stale = first;
  stale["data"]["n"] = "3";
  Result<Json> refused = writer().Update(types::ConfigMaps(), stale);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict) << refused.error().message;

  // Without a resourceVersion an update is unconditional.
  Json blind = stale;
  blind["metadata"].erase("resourceVersion");
  Result<Json> forced = writer().Update(types::ConfigMaps(), blind);
  ASSERT_TRUE(forced) << forced.error().message;
  EXPECT_EQ((*forced)["data"]["n"], "3");
}

TEST_P(ObjectWriterTest, AnUpdateThatChangesNothingKeepsTheResourceVersion) {
  Json created = Created(types::ConfigMaps(), ConfigMap("same", {{"a", "1"}}));
  Result<Json> again = writer().Update(types::ConfigMaps(), created);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(ResourceVersionOf(*again), ResourceVersionOf(created));
  Result<Json> patched =
      writer().Patch(types::ConfigMaps(), ns_, "same", PatchType::kMerge, {{"data", {{"a", "1"}}}});
  ASSERT_TRUE(patched) << patched.error().message;
  EXPECT_EQ(ResourceVersionOf(*patched), ResourceVersionOf(created));
}

TEST_P(ObjectWriterTest, CreateDropsStatusAndStartsGenerationAtOne) {
  Json with_status = ModelVersion("fresh");
  with_status["status"] = {{"phase", "Promoted"}};
  Json created = Created(types::ModelVersions(), with_status);
  EXPECT_EQ(Generation(created), 1);
  EXPECT_FALSE(created.contains("status") && created["status"].contains("phase"));
}

TEST_P(ObjectWriterTest, UpdateIgnoresStatusAndUpdateStatusIgnoresSpec) {
  Json created = Created(types::ModelVersions(), ModelVersion("split"));
  Json through_main = created;
  through_main["status"] = {{"phase", "Staging"}};
  Result<Json> main = writer().Update(types::ModelVersions(), through_main);
  ASSERT_TRUE(main) << main.error().message;
  EXPECT_FALSE(main->contains("status") && (*main)["status"].contains("phase"));

  Json through_status = *main;
  through_status["status"] = {{"phase", "Staging"}};
  through_status["spec"]["source"]["repository"] = "http://elsewhere.example";
  through_status["metadata"]["labels"] = {{"ignored", "yes"}};
  Result<Json> status = writer().UpdateStatus(types::ModelVersions(), through_status);
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ((*status)["status"]["phase"], "Staging");
  EXPECT_EQ((*status)["spec"], created["spec"]);
  EXPECT_TRUE(Labels(*status).empty());
  EXPECT_EQ(Generation(*status), 1);

  // The status subresource checks resourceVersion too.
  Json stale = created;
  stale["status"] = {{"phase", "Failed"}};
  Result<Json> refused = writer().UpdateStatus(types::ModelVersions(), stale);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict) << refused.error().message;
}

TEST_P(ObjectWriterTest, StatusPatchIgnoresSpecAndMainPatchIgnoresStatus) {
  (void)Created(types::ModelVersions(), ModelVersion("patched"));
  Result<Json> status =
      writer().Patch(types::ModelVersions(), ns_, "patched", PatchType::kMerge,
                     {{"status", {{"phase", "Paused"}}},
                      {"spec", {{"source", {{"repository", "http://elsewhere.example"}}}}}},
                     "status");
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ((*status)["status"]["phase"], "Paused");
  EXPECT_EQ((*status)["spec"]["source"]["repository"], "http://repo.example:8080");

  Result<Json> main =
      writer().Patch(types::ModelVersions(), ns_, "patched", PatchType::kMerge,
                     {{"status", {{"phase", "Failed"}}}, {"metadata", {{"labels", {{"a", "b"}}}}}});
  ASSERT_TRUE(main) << main.error().message;
  EXPECT_EQ((*main)["status"]["phase"], "Paused");
  EXPECT_EQ(Labels(*main).at("a"), "b");
}

TEST_P(ObjectWriterTest, MergePatchWithStaleResourceVersionConflicts) {
  Json created = Created(types::ModelVersions(), ModelVersion("locked"));
  Result<Json> moved = writer().Patch(types::ModelVersions(), ns_, "locked", PatchType::kMerge,
                                      {{"metadata", {{"labels", {{"step", "1"}}}}}});
  ASSERT_TRUE(moved) << moved.error().message;

  Result<Json> stale =
      writer().Patch(types::ModelVersions(), ns_, "locked", PatchType::kMerge,
                     {{"metadata", {{"resourceVersion", ResourceVersionOf(created)}}},
                      {"status", {{"phase", "Failed"}}}},
                     "status");
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict) << stale.error().message;

  Result<Json> current =
      writer().Patch(types::ModelVersions(), ns_, "locked", PatchType::kMerge,
                     {{"metadata", {{"resourceVersion", ResourceVersionOf(*moved)}}},
                      {"status", {{"phase", "Staging"}}}},
                     "status");
  ASSERT_TRUE(current) << current.error().message;
  EXPECT_EQ((*current)["status"]["phase"], "Staging");
}

TEST_P(ObjectWriterTest, JsonPatchIsAllOrNothing) {
  (void)Created(types::ConfigMaps(), ConfigMap("json", {{"keep", "k"}}));
  Result<Json> applied =
      writer().Patch(types::ConfigMaps(), ns_, "json", PatchType::kJson,
                     Json::array({{{"op", "replace"}, {"path", "/data/keep"}, {"value", "k2"}}}));
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ((*applied)["data"]["keep"], "k2");

  Result<Json> failed =
      writer().Patch(types::ConfigMaps(), ns_, "json", PatchType::kJson,
                     Json::array({{{"op", "test"}, {"path", "/data/keep"}, {"value", "wrong"}},
                                  {{"op", "remove"}, {"path", "/data/keep"}}}));
  ASSERT_FALSE(failed);
  // A failed test operation is a lost precondition (the API server answers
  // it with a bare 422): re-read and try again, like a stale resourceVersion.
  EXPECT_EQ(failed.error().code, ErrorCode::kConflict) << failed.error().message;
  Result<Json> unchanged = writer().Get(types::ConfigMaps(), ns_, "json");
  ASSERT_TRUE(unchanged) << unchanged.error().message;
  EXPECT_EQ((*unchanged)["data"]["keep"], "k2");
}

TEST_P(ObjectWriterTest, GenerationGrowsOnSpecChangesOnly) {
  Json created = Created(types::ModelVersions(), ModelVersion("gen"));
  ASSERT_EQ(Generation(created), 1);

  Json labelled = created;
  labelled["metadata"]["labels"] = {{"team", "ml"}};
  Result<Json> metadata_only = writer().Update(types::ModelVersions(), labelled);
  ASSERT_TRUE(metadata_only) << metadata_only.error().message;
  EXPECT_EQ(Generation(*metadata_only), 1);

  Result<Json> status_only = writer().Patch(types::ModelVersions(), ns_, "gen", PatchType::kMerge,
                                            {{"status", {{"phase", "Staging"}}}}, "status");
  ASSERT_TRUE(status_only) << status_only.error().message;
  EXPECT_EQ(Generation(*status_only), 1);

  Json respec = *status_only;
  respec["spec"]["source"]["repository"] = "http://mirror.example";
  Result<Json> spec = writer().Update(types::ModelVersions(), respec);
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(Generation(*spec), 2);

  // A client cannot set the generation itself.
  Json forged = *spec;
  forged["metadata"]["generation"] = 40;
  Result<Json> ignored = writer().Update(types::ModelVersions(), forged);
  ASSERT_TRUE(ignored) << ignored.error().message;
  EXPECT_EQ(Generation(*ignored), 2);
}

TEST_P(ObjectWriterTest, FinalizerKeepsADeletedObjectUntilRemoved) {
  Json guarded = ModelVersion("guarded");
  guarded["metadata"]["finalizers"] = {"ferry.dev/test"};
  Json created = Created(types::ModelVersions(), guarded);

  Status deleted = writer().Delete(types::ModelVersions(), ns_, "guarded");
  ASSERT_TRUE(deleted) << deleted.error().message;
  Result<Json> marked = writer().Get(types::ModelVersions(), ns_, "guarded");
  ASSERT_TRUE(marked) << marked.error().message;
  EXPECT_TRUE(IsBeingDeleted(*marked));
  // Marking for deletion moves the generation, so a controller sees it.
  EXPECT_EQ(Generation(*marked), 2);
  EXPECT_NE(ResourceVersionOf(*marked), ResourceVersionOf(created));

  // No finalizer may be added once deletion began.
  Json more = *marked;
  more["metadata"]["finalizers"] = {"ferry.dev/test", "ferry.dev/other"};
  Result<Json> refused = writer().Update(types::ModelVersions(), more);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument) << refused.error().message;

  Json released = *marked;
  released["metadata"]["finalizers"] = Json::array();
  Result<Json> updated = writer().Update(types::ModelVersions(), released);
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_TRUE(Eventually(
      [&] { return GetFails(types::ModelVersions(), "guarded") == ErrorCode::kNotFound; }));
}

TEST_P(ObjectWriterTest, DeletePreconditionsMustMatch) {
  Json created = Created(types::ConfigMaps(), ConfigMap("pre"));
  Status wrong_uid = writer().Delete(types::ConfigMaps(), ns_, "pre",
                                     {.precondition_uid = "00000000-0000-0000-0000-000000000000"});
  ASSERT_FALSE(wrong_uid);
  EXPECT_EQ(wrong_uid.error().code, ErrorCode::kConflict) << wrong_uid.error().message;

  Json moved = created;
  moved["data"] = {{"x", "y"}};
  ASSERT_TRUE(writer().Update(types::ConfigMaps(), moved));
  Status stale = writer().Delete(types::ConfigMaps(), ns_, "pre",
                                 {.precondition_resource_version = ResourceVersionOf(created)});
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict) << stale.error().message;
  EXPECT_EQ(GetFails(types::ConfigMaps(), "pre"), std::nullopt);  // still there

  Status right =
      writer().Delete(types::ConfigMaps(), ns_, "pre", {.precondition_uid = Uid(created)});
  ASSERT_TRUE(right) << right.error().message;
  EXPECT_EQ(GetFails(types::ConfigMaps(), "pre"), ErrorCode::kNotFound);
}

TEST_P(ObjectWriterTest, DependentsGoWithTheirOwner) {
  Json owner = Created(types::ConfigMaps(), ConfigMap("owner"));
  Json dependent = ConfigMap("dependent");
  SetControllerReference(dependent, owner);
  ASSERT_FALSE(Created(types::ConfigMaps(), dependent).empty());
  Json bystander = Created(types::ConfigMaps(), ConfigMap("bystander"));

  ASSERT_TRUE(writer().Delete(types::ConfigMaps(), ns_, "owner"));
  EXPECT_TRUE(Eventually(
      [&] { return GetFails(types::ConfigMaps(), "dependent") == ErrorCode::kNotFound; }));
  EXPECT_EQ(GetFails(types::ConfigMaps(), "bystander"), std::nullopt);  // still there
}

INSTANTIATE_TEST_SUITE_P(On, ObjectWriterTest,
                         ::testing::Values(std::string(writer_target::Name())),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace ferry::kube
