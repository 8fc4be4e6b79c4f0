// lib/kube's retry rules under a storm of 429s, 5xx answers and dropped
// connections, injected by tests/support/fault_proxy between the client and
// the real local API server. Faults are answered by the proxy without
// forwarding, as an overloaded API server or load balancer would, so the
// test knows exactly which requests never reached the server: every one of
// them must be retried, nothing may be lost or done twice, and the waits
// between attempts must grow and respect Retry-After.
#include <gtest/gtest.h>

#include <mutex>
#include <random>

#include "lib/kube/informer.h"
#include "tests/lib/kube/cluster_client.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/paths.h"

namespace ferry::kube {
namespace {

using std::chrono::milliseconds;
using testing::Answer;
using testing::Drop;
using testing::Fault;
using testing::FaultProxy;
using testing::ProxiedRequest;

bool IsApply(const ProxiedRequest& request) {
  return request.method == "PATCH" && request.path.find("fieldManager=") != std::string::npos;
}

// Faults what a real overloaded server sends. Verbs that are not safe to
// repeat (POST, plain PATCH) only get answers that say "not processed, come
// back" (429, or 503 with Retry-After): a 500 or a dropped connection would
// leave a real client unable to know whether its create happened.
testing::FaultPolicy Storm(double probability, uint64_t seed) {
  auto random = std::make_shared<std::mt19937_64>(seed);
  auto mutex = std::make_shared<std::mutex>();
  return [=](const ProxiedRequest& request) -> std::optional<Fault> {
    std::lock_guard lock(*mutex);
    if (std::uniform_real_distribution<double>(0, 1)(*random) >= probability) return std::nullopt;
    const bool repeatable = request.method == "GET" || request.method == "PUT" ||
                            request.method == "DELETE" || IsApply(request);
    std::vector<Fault> kinds = {Answer(429, 0), Answer(503, 0)};
    if (repeatable) kinds.insert(kinds.end(), {Answer(500), Answer(503), Answer(504), Drop()});
    return kinds[std::uniform_int_distribution<size_t>(0, kinds.size() - 1)(*random)];
  };
}

class RetryStormTest : public ClusterTest {
 protected:
  std::unique_ptr<Client> ClientThrough(const FaultProxy& proxy) {
    ClusterConfig config;
    config.server = proxy.url();  // the proxy holds the admin credentials, as kubectl proxy does
    config.default_namespace = namespace_;
    ClientOptions options;
    options.retry_backoff = {.initial = milliseconds(20), .max = milliseconds(400)};
    options.max_retries = 12;
    Result<std::unique_ptr<Client>> client = Client::Create(config, options);
    EXPECT_TRUE(client) << client.error().message;
    return client ? std::move(*client) : nullptr;
  }

  static size_t Injected(const FaultProxy& proxy) {
    size_t injected = 0;
    for (const auto& entry : proxy.Log()) injected += entry.injected ? 1 : 0;
    return injected;
  }
};

TEST_F(RetryStormTest, EveryOperationLandsExactlyOnceThroughAStorm) {
  FaultProxy proxy(FaultProxy::FromClusterState(testing::ClusterState()), Storm(0.4, 7));
  std::unique_ptr<Client> stormy = ClientThrough(proxy);
  ASSERT_NE(stormy, nullptr);
  constexpr int kObjects = 20;
  for (int i = 0; i < kObjects; ++i) {
    Result<Json> created =
        stormy->Create(types::ConfigMaps(), ConfigMap("cm-" + std::to_string(i), {{"v", "1"}}));
    ASSERT_TRUE(created) << created.error().message;
  }
  for (int i = 0; i < kObjects; ++i) {
    const std::string name = "cm-" + std::to_string(i);
    Result<Json> updated = RetryOnConflict([&]() -> Result<Json> {
      Result<Json> fresh = stormy->Get(types::ConfigMaps(), namespace_, name);
      if (!fresh) return fresh.error();
      (*fresh)["data"]["v"] = "2";
      return stormy->Update(types::ConfigMaps(), *fresh);
    });
    ASSERT_TRUE(updated) << updated.error().message;
    Result<Json> labelled = stormy->Patch(types::ConfigMaps(), namespace_, name, PatchType::kMerge,
                                          {{"metadata", {{"labels", {{"stormed", "yes"}}}}}});
    ASSERT_TRUE(labelled) << labelled.error().message;
  }
  Result<Json> applied = stormy->Apply(types::ConfigMaps(), ConfigMap("applied", {{"v", "a"}}),
                                       {.field_manager = "storm-test"});
  ASSERT_TRUE(applied) << applied.error().message;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(stormy->Delete(types::ConfigMaps(), namespace_, "cm-" + std::to_string(i)));
  }
  ListOptions paged;
  paged.limit = 4;
  paged.label_selector = "stormed=yes";
  Result<ObjectList> listed = stormy->ListAll(types::ConfigMaps(), namespace_, paged);
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(listed->items.size(), static_cast<size_t>(kObjects - 5));

  // What the API server holds, read without the proxy.
  Result<ObjectList> truth = client_->ListAll(types::ConfigMaps(), namespace_);
  ASSERT_TRUE(truth);
  std::map<std::string, Json> by_name;
  for (const Json& item : truth->items) by_name[Name(item)] = item;
  for (int i = 0; i < kObjects; ++i) {
    const std::string name = "cm-" + std::to_string(i);
    if (i < 5) {
      EXPECT_FALSE(by_name.contains(name)) << name << " was not deleted";
      continue;
    }
    ASSERT_TRUE(by_name.contains(name)) << name << " was lost";
    EXPECT_EQ(by_name[name]["data"]["v"], "2") << name;
    EXPECT_EQ(Labels(by_name[name]).at("stormed"), "yes") << name;
  }
  EXPECT_EQ(by_name["applied"]["data"]["v"], "a");

  // Every injected fault cost exactly one retry, and nothing else was retried.
  const size_t injected = Injected(proxy);
  const ClientStats stats = stormy->stats();
  std::printf("storm: %zu requests through the proxy, %zu faults injected, %lu retries\n",
              proxy.Log().size(), injected, static_cast<unsigned long>(stats.retries));
  EXPECT_GE(injected, 20u) << "the storm was too mild to prove anything";
  EXPECT_EQ(stats.retries, injected);
  EXPECT_EQ(stats.requests, proxy.Log().size());
}

TEST_F(RetryStormTest, WaitsGrowBetweenAttemptsAndHonourRetryAfter) {
  ASSERT_TRUE(client_->Create(types::ConfigMaps(), ConfigMap("slow")));
  ASSERT_TRUE(client_->Create(types::ConfigMaps(), ConfigMap("polite")));
  auto attempts = std::make_shared<std::map<std::string, int>>();
  auto mutex = std::make_shared<std::mutex>();
  FaultProxy proxy(FaultProxy::FromClusterState(testing::ClusterState()),
                   [=](const ProxiedRequest& request) -> std::optional<Fault> {
                     std::lock_guard lock(*mutex);
                     const int n = ++(*attempts)[request.path];
                     if (request.path.ends_with("/slow") && n <= 5) return Answer(503);
                     if (request.path.ends_with("/polite") && n == 1) return Answer(429, 1);
                     return std::nullopt;
                   });
  std::unique_ptr<Client> stormy = ClientThrough(proxy);
  ASSERT_NE(stormy, nullptr);
  ASSERT_TRUE(stormy->Get(types::ConfigMaps(), namespace_, "slow"));
  ASSERT_TRUE(stormy->Get(types::ConfigMaps(), namespace_, "polite"));

  std::vector<std::chrono::steady_clock::time_point> slow, polite;
  for (const auto& entry : proxy.Log()) {
    (entry.path.ends_with("/slow") ? slow : polite).push_back(entry.at);
  }
  ASSERT_EQ(slow.size(), 6u);  // five faults, then the answer
  std::vector<double> gaps;
  for (size_t i = 1; i < slow.size(); ++i) {
    gaps.push_back(std::chrono::duration<double, std::milli>(slow[i] - slow[i - 1]).count());
  }
  std::printf("waits between attempts (ms):");
  for (double gap : gaps) std::printf(" %.0f", gap);
  std::printf("\n");
  // Initial 20 ms, doubling, each wait drawn from [d/2, d]: the k-th wait is at
  // least 10 * 2^k ms. Only lower bounds: a loaded machine adds to every gap.
  for (size_t k = 0; k < gaps.size(); ++k) EXPECT_GE(gaps[k], 10.0 * (1 << k)) << k;
  // And they grow: the last two waits (at least 240 ms) dwarf the first two (at most 60).
  EXPECT_GT(gaps[3] + gaps[4], gaps[0] + gaps[1]);

  ASSERT_EQ(polite.size(), 2u);
  const std::chrono::duration<double, std::milli> polite_wait = polite[1] - polite[0];
  EXPECT_GE(polite_wait.count(), 1000.0) << "a 429 with Retry-After: 1 was retried sooner";
}

TEST_F(RetryStormTest, AnInformerThroughAStormStillMirrorsTheServer) {
  for (int i = 0; i < 8; ++i)
    ASSERT_TRUE(client_->Create(types::ConfigMaps(), ConfigMap("w" + std::to_string(i))));
  FaultProxy proxy(FaultProxy::FromClusterState(testing::ClusterState()), Storm(0.3, 11));
  std::unique_ptr<Client> stormy = ClientThrough(proxy);
  ASSERT_NE(stormy, nullptr);
  InformerOptions options;
  options.type = types::ConfigMaps();
  options.namespace_name = namespace_;
  options.page_size = 2;
  options.backoff = {.initial = milliseconds(50), .max = milliseconds(500)};
  Informer informer(*stormy, options);
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(std::chrono::seconds(30)));
  for (int i = 8; i < 14; ++i)
    ASSERT_TRUE(client_->Create(types::ConfigMaps(), ConfigMap("w" + std::to_string(i))));
  ASSERT_TRUE(client_->Delete(types::ConfigMaps(), namespace_, "w0"));
  auto names = [](const std::vector<ObjectPtr>& objects) {
    std::set<std::string> out;
    for (const ObjectPtr& o : objects) out.insert(Name(*o));
    return out;
  };
  ASSERT_TRUE(Eventually([&] {
    Result<ObjectList> truth = client_->ListAll(types::ConfigMaps(), namespace_);
    if (!truth) return false;
    std::set<std::string> expected;
    for (const Json& item : truth->items) expected.insert(Name(item));
    return names(informer.store().List()) == expected;
  })) << "the informer's cache never matched the server";
  EXPECT_GT(Injected(proxy), 0u);
}

}  // namespace
}  // namespace ferry::kube
