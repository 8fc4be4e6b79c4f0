// The verbs of lib/kube's Client against the real local API server (the
// `cluster` fixture): on a core type (ConfigMap) and on Ferry's own CRD
// (ModelVersion, with its status subresource), plus Events and the error
// codes callers act on.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "lib/kube/events.h"
#include "tests/lib/kube/cluster_client.h"

namespace ferry::kube {
namespace {

class ClientTest : public ClusterTest {
 protected:
  Json ModelVersion(const std::string& name) const {
    return {{"apiVersion", "ferry.dev/v1alpha1"},
            {"kind", "ModelVersion"},
            {"metadata", {{"name", name}, {"namespace", namespace_}}},
            {"spec",
             {{"model", "gpt-a"},
              {"version", "1.1.0"},
              {"source",
               {{"repository", "http://ferry-repo.ml.svc:8080"},
                {"manifestDigest", "sha256:" + std::string(64, 'a')}}},
              {"serving", {{"deployment", "gpt-a-server"}}},
              {"strategy", {{"canary", {{"steps", Json::array({{{"setWeight", 20}}})}}}}}}}};
  }
};

TEST_F(ClientTest, CreateGetUpdateDeleteAConfigMap) {
  Result<Json> created = client_->Create(types::ConfigMaps(), ConfigMap("one", {{"a", "1"}}));
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_FALSE(ResourceVersionOf(*created).empty());
  EXPECT_FALSE(Uid(*created).empty());

  Result<Json> again = client_->Create(types::ConfigMaps(), ConfigMap("one"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists) << again.error().message;

  Result<Json> fetched = client_->Get(types::ConfigMaps(), namespace_, "one");
  ASSERT_TRUE(fetched) << fetched.error().message;
  EXPECT_EQ((*fetched)["data"]["a"], "1");

  Json changed = *fetched;
  changed["data"]["a"] = "2";
  Result<Json> updated = client_->Update(types::ConfigMaps(), changed);
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_NE(ResourceVersionOf(*updated), ResourceVersionOf(*fetched));

  // The same stale resourceVersion again: optimistic concurrency refuses it.
  changed["data"]["a"] = "3";
  Result<Json> stale = client_->Update(types::ConfigMaps(), changed);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict) << stale.error().message;

  ASSERT_TRUE(client_->Delete(types::ConfigMaps(), namespace_, "one"));
  Result<Json> gone = client_->Get(types::ConfigMaps(), namespace_, "one");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  EXPECT_NE(gone.error().message.find("configmaps"), std::string::npos) << gone.error().message;
}

TEST_F(ClientTest, ListFiltersBySelectorsAndPages) {
  for (int i = 0; i < 7; ++i) {
    Json object = ConfigMap("item-" + std::to_string(i));
    object["metadata"]["labels"] = {{"parity", i % 2 == 0 ? "even" : "odd"}};
    ASSERT_TRUE(client_->Create(types::ConfigMaps(), object));
  }
  ListOptions even;
  even.label_selector = "parity=even";
  Result<ObjectList> evens = client_->ListAll(types::ConfigMaps(), namespace_, even);
  ASSERT_TRUE(evens) << evens.error().message;
  EXPECT_EQ(evens->items.size(), 4u);
  for (const Json& item : evens->items) {
    EXPECT_EQ(item["kind"], "ConfigMap");  // filled in for list items
    EXPECT_EQ(Labels(item).at("parity"), "even");
  }

  ListOptions by_name;
  by_name.field_selector = "metadata.name=item-3";
  Result<ObjectList> one = client_->List(types::ConfigMaps(), namespace_, by_name);
  ASSERT_TRUE(one) << one.error().message;
  ASSERT_EQ(one->items.size(), 1u);
  EXPECT_EQ(Name(one->items[0]), "item-3");

  ListOptions paged;
  paged.label_selector = "parity";
  paged.limit = 3;
  Result<ObjectList> first_page = client_->List(types::ConfigMaps(), namespace_, paged);
  ASSERT_TRUE(first_page) << first_page.error().message;
  EXPECT_EQ(first_page->items.size(), 3u);
  EXPECT_FALSE(first_page->continue_token.empty());
  Result<ObjectList> all = client_->ListAll(types::ConfigMaps(), namespace_, paged);
  ASSERT_TRUE(all) << all.error().message;
  std::set<std::string> names;
  for (const Json& item : all->items) names.insert(Name(item));
  EXPECT_EQ(names.size(), 7u);
  EXPECT_FALSE(all->resource_version.empty());

  ListOptions bad;
  bad.label_selector = "this is not a selector";
  Result<ObjectList> refused = client_->List(types::ConfigMaps(), namespace_, bad);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument) << refused.error().message;
}

TEST_F(ClientTest, MergeJsonAndStrategicPatches) {
  ASSERT_TRUE(client_->Create(types::ConfigMaps(), ConfigMap("p", {{"keep", "k"}, {"drop", "d"}})));
  Result<Json> merged = client_->Patch(types::ConfigMaps(), namespace_, "p", PatchType::kMerge,
                                       {{"data", {{"added", "a"}, {"drop", nullptr}}}});
  ASSERT_TRUE(merged) << merged.error().message;
  EXPECT_EQ((*merged)["data"], Json({{"keep", "k"}, {"added", "a"}}));

  Result<Json> json_patched = client_->Patch(
      types::ConfigMaps(), namespace_, "p", PatchType::kJson,
      Json::array({{{"op", "replace"}, {"path", "/data/keep"}, {"value", "k2"}},
                   {{"op", "add"}, {"path", "/metadata/labels"}, {"value", {{"x", "y"}}}}}));
  ASSERT_TRUE(json_patched) << json_patched.error().message;
  EXPECT_EQ((*json_patched)["data"]["keep"], "k2");
  EXPECT_EQ(Labels(*json_patched).at("x"), "y");

  // A JSON patch whose test fails is refused whole.
  Result<Json> failed_test =
      client_->Patch(types::ConfigMaps(), namespace_, "p", PatchType::kJson,
                     Json::array({{{"op", "test"}, {"path", "/data/keep"}, {"value", "wrong"}},
                                  {{"op", "remove"}, {"path", "/data/keep"}}}));
  ASSERT_FALSE(failed_test);
  Result<Json> unchanged = client_->Get(types::ConfigMaps(), namespace_, "p");
  ASSERT_TRUE(unchanged);
  EXPECT_EQ((*unchanged)["data"]["keep"], "k2");

  Result<Json> strategic = client_->Patch(types::ConfigMaps(), namespace_, "p",
                                          PatchType::kStrategicMerge, {{"data", {{"s", "1"}}}});
  ASSERT_TRUE(strategic) << strategic.error().message;
  EXPECT_EQ((*strategic)["data"]["s"], "1");
}

TEST_F(ClientTest, ServerSideApplyOwnsFieldsAndConflictsUnlessForced) {
  Json intent = ConfigMap("applied", {{"owned", "by-a"}});
  Result<Json> first = client_->Apply(types::ConfigMaps(), intent, {.field_manager = "writer-a"});
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ((*first)["data"]["owned"], "by-a");

  // Applying the same intent again changes nothing.
  Result<Json> repeat = client_->Apply(types::ConfigMaps(), intent, {.field_manager = "writer-a"});
  ASSERT_TRUE(repeat) << repeat.error().message;
  EXPECT_EQ(ResourceVersionOf(*repeat), ResourceVersionOf(*first));

  // Another manager claiming the same field conflicts...
  Json rival = ConfigMap("applied", {{"owned", "by-b"}});
  Result<Json> conflict = client_->Apply(types::ConfigMaps(), rival, {.field_manager = "writer-b"});
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code, ErrorCode::kConflict) << conflict.error().message;
  // ...unless it forces, which takes the field over.
  Result<Json> forced =
      client_->Apply(types::ConfigMaps(), rival, {.field_manager = "writer-b", .force = true});
  ASSERT_TRUE(forced) << forced.error().message;
  EXPECT_EQ((*forced)["data"]["owned"], "by-b");

  // A manager dropping a field it alone owns removes it.
  Json with_extra = ConfigMap("applied", {{"owned", "by-b"}, {"extra", "e"}});
  ASSERT_TRUE(client_->Apply(types::ConfigMaps(), with_extra, {.field_manager = "writer-b"}));
  Result<Json> dropped = client_->Apply(types::ConfigMaps(), rival, {.field_manager = "writer-b"});
  ASSERT_TRUE(dropped) << dropped.error().message;
  EXPECT_FALSE((*dropped)["data"].contains("extra"));

  Result<Json> no_manager = client_->Apply(types::ConfigMaps(), rival, {});
  ASSERT_FALSE(no_manager);
  EXPECT_EQ(no_manager.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(ClientTest, DeleteHonoursPreconditions) {
  Result<Json> created = client_->Create(types::ConfigMaps(), ConfigMap("guarded"));
  ASSERT_TRUE(created);
  Status wrong_uid = client_->Delete(types::ConfigMaps(), namespace_, "guarded",
                                     {.precondition_uid = "00000000-0000-0000-0000-000000000000"});
  ASSERT_FALSE(wrong_uid);
  EXPECT_EQ(wrong_uid.error().code, ErrorCode::kConflict) << wrong_uid.error().message;
  ASSERT_TRUE(client_->Get(types::ConfigMaps(), namespace_, "guarded"));

  Status right = client_->Delete(types::ConfigMaps(), namespace_, "guarded",
                                 {.precondition_uid = Uid(*created),
                                  .precondition_resource_version = ResourceVersionOf(*created),
                                  .propagation_policy = "Foreground"});
  ASSERT_TRUE(right) << right.error().message;
  EXPECT_TRUE(Eventually([&] {
    Result<Json> gone = client_->Get(types::ConfigMaps(), namespace_, "guarded");
    return !gone && gone.error().code == ErrorCode::kNotFound;
  }));
}

TEST_F(ClientTest, ModelVersionStatusGoesThroughItsSubresource) {
  Result<Json> created = client_->Create(types::ModelVersions(), ModelVersion("mv"));
  ASSERT_TRUE(created) << created.error().message;

  // A status written through the main resource is ignored by the API server...
  Json through_main = *created;
  through_main["status"] = {{"phase", "Staging"}};
  Result<Json> ignored = client_->Update(types::ModelVersions(), through_main);
  ASSERT_TRUE(ignored) << ignored.error().message;
  EXPECT_FALSE(ignored->contains("status") && (*ignored)["status"].contains("phase"));

  // ...and lands through the status subresource, with conditions kept stable.
  Json with_status = *ignored;
  with_status["status"] = {{"phase", "Staging"}, {"currentStep", 0}};
  SetCondition(with_status["status"], {"Staged", "False", "Fetching", "2 of 8 nodes"});
  Result<Json> status = client_->UpdateStatus(types::ModelVersions(), with_status);
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ((*status)["status"]["phase"], "Staging");
  EXPECT_EQ((*status)["spec"]["version"], "1.1.0");

  // A spec change sent to the status subresource is dropped.
  Json spec_via_status = *status;
  spec_via_status["spec"]["staging"] = {{"maxConcurrentNodes", 9}};
  Result<Json> spec_dropped = client_->UpdateStatus(types::ModelVersions(), spec_via_status);
  ASSERT_TRUE(spec_dropped) << spec_dropped.error().message;
  EXPECT_EQ((*spec_dropped)["spec"], (*status)["spec"]);

  // A user promotes through a merge patch of the status subresource.
  Result<Json> promoted =
      client_->Patch(types::ModelVersions(), namespace_, "mv", PatchType::kMerge,
                     {{"status", {{"promote", "full"}}}}, "status");
  ASSERT_TRUE(promoted) << promoted.error().message;
  EXPECT_EQ((*promoted)["status"]["promote"], "full");
  EXPECT_EQ((*promoted)["status"]["phase"], "Staging");

  // Server-side apply on the status subresource, as the operator will write it.
  Json applied_status = {{"apiVersion", "ferry.dev/v1alpha1"},
                         {"kind", "ModelVersion"},
                         {"metadata", {{"name", "mv"}, {"namespace", namespace_}}},
                         {"status", {{"phase", "Progressing"}}}};
  Result<Json> applied =
      client_->Apply(types::ModelVersions(), applied_status,
                     {.field_manager = "ferry-operator", .force = true}, "status");
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ((*applied)["status"]["phase"], "Progressing");

  // The CRD's schema is enforced: an invalid object is refused with the reason.
  Json invalid = ModelVersion("bad");
  invalid["spec"]["source"]["manifestDigest"] = "md5:nope";
  Result<Json> refused = client_->Create(types::ModelVersions(), invalid);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument) << refused.error().message;
  EXPECT_NE(refused.error().message.find("manifestDigest"), std::string::npos)
      << refused.error().message;
}

TEST_F(ClientTest, EventsAreRecordedAboutAnObject) {
  Result<Json> created = client_->Create(types::ModelVersions(), ModelVersion("with-events"));
  ASSERT_TRUE(created) << created.error().message;
  EventPoster poster(*client_, "ferry.dev/operator", "test-replica");
  Result<Json> event = poster.Post(*created, EventType::kWarning, "CanaryFailed", "Abort",
                                   "analysis webhook answered 500");
  ASSERT_TRUE(event) << event.error().message;

  ListOptions about;
  about.field_selector = "regarding.name=with-events";
  Result<ObjectList> events = client_->List(types::Events(), namespace_, about);
  ASSERT_TRUE(events) << events.error().message;
  ASSERT_EQ(events->items.size(), 1u);
  const Json& stored = events->items[0];
  EXPECT_EQ(stored["reason"], "CanaryFailed");
  EXPECT_EQ(stored["type"], "Warning");
  EXPECT_EQ(stored["regarding"]["uid"], Uid(*created));
  EXPECT_EQ(stored["reportingController"], "ferry.dev/operator");
}

TEST_F(ClientTest, ConflictingWritersBothLandThroughRetryOnConflict) {
  ASSERT_TRUE(client_->Create(types::ConfigMaps(), ConfigMap("shared")));
  std::unique_ptr<Client> other = NewClusterClient();
  ASSERT_NE(other, nullptr);

  // Deterministic interleaving first: both read, one writes, the other loses.
  Result<Json> read_a = client_->Get(types::ConfigMaps(), namespace_, "shared");
  Result<Json> read_b = other->Get(types::ConfigMaps(), namespace_, "shared");
  ASSERT_TRUE(read_a && read_b);
  (*read_b)["data"]["b"] = "from-b";
  ASSERT_TRUE(other->Update(types::ConfigMaps(), *read_b));
  (*read_a)["data"]["a"] = "from-a";
  int attempts = 0;
  Result<Json> a_lands = RetryOnConflict([&]() -> Result<Json> {
    ++attempts;
    Json object = *read_a;
    if (attempts > 1) {  // the loser re-reads and re-applies its change
      Result<Json> fresh = client_->Get(types::ConfigMaps(), namespace_, "shared");
      if (!fresh) return fresh.error();
      object = *fresh;
      object["data"]["a"] = "from-a";
    }
    return client_->Update(types::ConfigMaps(), object);
  });
  ASSERT_TRUE(a_lands) << a_lands.error().message;
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ((*a_lands)["data"]["a"], "from-a");
  EXPECT_EQ((*a_lands)["data"]["b"], "from-b");

  // Then two writers racing, each adding its own keys: every change lands.
  auto writer = [&](Client& client, const std::string& prefix, int& conflicts) {
    for (int i = 0; i < 15; ++i) {
      Result<Json> done = RetryOnConflict(
          [&]() -> Result<Json> {
            Result<Json> fresh = client.Get(types::ConfigMaps(), namespace_, "shared");
            if (!fresh) return fresh.error();
            (*fresh)["data"][prefix + std::to_string(i)] = "v";
            Result<Json> written = client.Update(types::ConfigMaps(), *fresh);
            if (!written && written.error().code == ErrorCode::kConflict) ++conflicts;
            return written;
          },
          100);
      ASSERT_TRUE(done) << done.error().message;
    }
  };
  int conflicts_a = 0, conflicts_b = 0;
  std::thread a([&] { writer(*client_, "a", conflicts_a); });
  std::thread b([&] { writer(*other, "b", conflicts_b); });
  a.join();
  b.join();
  Result<Json> final_object = client_->Get(types::ConfigMaps(), namespace_, "shared");
  ASSERT_TRUE(final_object);
  for (int i = 0; i < 15; ++i) {
    EXPECT_TRUE((*final_object)["data"].contains("a" + std::to_string(i))) << i;
    EXPECT_TRUE((*final_object)["data"].contains("b" + std::to_string(i))) << i;
  }
  std::printf("racing writers: %d + %d conflicts retried\n", conflicts_a, conflicts_b);
}

TEST_F(ClientTest, WrongCredentialsAndUntrustedServerAreNamed) {
  ClusterConfig bad_token = ClusterAdminConfig();
  bad_token.client_cert_pem.clear();
  bad_token.client_key_pem.clear();
  bad_token.bearer_token = "not-a-real-token";
  Result<std::unique_ptr<Client>> stranger = Client::Create(bad_token, {.max_retries = 0});
  ASSERT_TRUE(stranger) << stranger.error().message;
  Result<Json> refused = (*stranger)->Get(types::ConfigMaps(), namespace_, "x");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kPermissionDenied) << refused.error().message;
  EXPECT_NE(refused.error().message.find("401"), std::string::npos) << refused.error().message;

  ClusterConfig wrong_ca = ClusterAdminConfig();
  wrong_ca.ca_pem = wrong_ca.client_cert_pem;  // a certificate, but not the cluster's CA
  Result<std::unique_ptr<Client>> distrustful = Client::Create(wrong_ca, {.max_retries = 0});
  ASSERT_TRUE(distrustful) << distrustful.error().message;
  Result<Json> untrusted = (*distrustful)->Get(types::ConfigMaps(), namespace_, "x");
  ASSERT_FALSE(untrusted);
  EXPECT_EQ(untrusted.error().code, ErrorCode::kPermissionDenied) << untrusted.error().message;
  EXPECT_NE(untrusted.error().message.find("not trusted"), std::string::npos)
      << untrusted.error().message;
}

TEST_F(ClientTest, InsecureSkipTlsVerifyIsTheOnlyWayPastAnUnknownCa) {
  ClusterConfig system_trust = ClusterAdminConfig();
  system_trust.ca_pem.clear();  // the system's trust store knows nothing of the local CA
  Result<std::unique_ptr<Client>> strict = Client::Create(system_trust, {.max_retries = 0});
  ASSERT_TRUE(strict);
  Result<Json> refused = (*strict)->Get(types::Namespaces(), "", namespace_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kPermissionDenied) << refused.error().message;

  system_trust.insecure_skip_tls_verify = true;
  Result<std::unique_ptr<Client>> trusting = Client::Create(system_trust, {.max_retries = 0});
  ASSERT_TRUE(trusting);
  Result<Json> fetched = (*trusting)->Get(types::Namespaces(), "", namespace_);
  ASSERT_TRUE(fetched) << fetched.error().message;
  EXPECT_EQ(Name(*fetched), namespace_);
}

TEST_F(ClientTest, RawRequestsReachAnyPath) {
  Result<HttpResponse> version = client_->Raw({"GET", "/version", "", ""}, true);
  ASSERT_TRUE(version) << version.error().message;
  EXPECT_EQ(version->status, 200);
  EXPECT_EQ(Json::parse(version->body)["gitVersion"].get<std::string>().rfind("v1.", 0), 0u);
}

}  // namespace
}  // namespace ferry::kube
