// Proves the fault proxy against the shared test cluster's real apiserver: it
// forwards every method with its query and body and relays the answer; a
// fault it injects is answered by the proxy alone and never reaches the
// apiserver; a dropped connection is an error the client sees; watches arrive
// event by event.
#include "tests/support/fault_proxy.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/paths.h"

namespace ferry::testing {
namespace {

using std::chrono::steady_clock;

FaultProxy::Upstream ClusterUpstream() {
  return FaultProxy::FromClusterState(std::filesystem::path(ClusterKubeconfig()).parent_path());
}

std::unique_ptr<httplib::Client> ClientOf(const FaultProxy& proxy) {
  auto client = std::make_unique<httplib::Client>(proxy.url());
  client->set_connection_timeout(std::chrono::seconds(5));
  client->set_read_timeout(std::chrono::seconds(30));
  return client;
}

std::string ConfigMap(const std::string& name, const std::string& value) {
  return nlohmann::json{{"apiVersion", "v1"},
                        {"kind", "ConfigMap"},
                        {"metadata", {{"name", name}, {"labels", {{"app", "fault-proxy-test"}}}}},
                        {"data", {{"key", value}}}}
      .dump();
}

Fault TooManyRequests() { return Answer(429, 1); }

// A namespace of the test's own, through a proxy that injects nothing, so
// tests may run at once and reruns start clean.
class FaultProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::isalnum(c) ? std::tolower(c) : '-'; });
    namespace_ = "fp-" + name.substr(0, 40) + "-" + std::to_string(::getpid());
    httplib::Result created = ClientOf(direct_)->Post(
        "/api/v1/namespaces",
        nlohmann::json{
            {"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", namespace_}}}}
            .dump(),
        "application/json");
    ASSERT_TRUE(created) << httplib::to_string(created.error());
    ASSERT_EQ(created->status, 201) << created->body;
  }
  void TearDown() override { ClientOf(direct_)->Delete("/api/v1/namespaces/" + namespace_); }

  std::string ConfigMaps() const { return "/api/v1/namespaces/" + namespace_ + "/configmaps"; }

  FaultProxy direct_{ClusterUpstream(), nullptr};
  std::string namespace_;
};

TEST_F(FaultProxyTest, ForwardsARequestAndRelaysTheAnswer) {
  FaultProxy proxy(ClusterUpstream(), nullptr);
  httplib::Result got =
      ClientOf(proxy)->Get("/api/v1/namespaces/default", {{"Accept", "application/json"}});
  ASSERT_TRUE(got) << httplib::to_string(got.error());
  ASSERT_EQ(got->status, 200) << got->body;
  EXPECT_EQ(got->get_header_value("Content-Type"), "application/json");
  EXPECT_FALSE(got->get_header_value("Audit-Id").empty()) << "the apiserver's headers are relayed";
  const nlohmann::json body = nlohmann::json::parse(got->body);
  EXPECT_EQ(body["kind"], "Namespace");
  EXPECT_EQ(body["metadata"]["name"], "default");

  const std::vector<ProxyLogEntry> log = proxy.Log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].method, "GET");
  EXPECT_EQ(log[0].path, "/api/v1/namespaces/default");
  EXPECT_EQ(log[0].status, 200);
  EXPECT_FALSE(log[0].injected);
}

TEST_F(FaultProxyTest, InjectedFaultNeverReachesTheApiServer) {
  FaultProxy proxy(ClusterUpstream(), EveryNth(2, TooManyRequests()));
  auto client = ClientOf(proxy);

  httplib::Result first = client->Get(ConfigMaps());
  ASSERT_TRUE(first) << httplib::to_string(first.error());
  EXPECT_EQ(first->status, 200) << first->body;

  httplib::Result created = client->Post(ConfigMaps(), ConfigMap("lost", "v"), "application/json");
  ASSERT_TRUE(created) << httplib::to_string(created.error());
  EXPECT_EQ(created->status, 429);
  EXPECT_EQ(created->get_header_value("Retry-After"), "1");
  EXPECT_EQ(created->get_header_value("Content-Type"), "application/json");
  const nlohmann::json status = nlohmann::json::parse(created->body);
  EXPECT_EQ(status["kind"], "Status");
  EXPECT_EQ(status["apiVersion"], "v1");
  EXPECT_EQ(status["status"], "Failure");
  EXPECT_EQ(status["reason"], "TooManyRequests");
  EXPECT_EQ(status["code"], 429);
  EXPECT_EQ(status["details"]["retryAfterSeconds"], 1);

  proxy.SetPolicy(nullptr);
  httplib::Result after = client->Get(ConfigMaps() + "/lost");
  ASSERT_TRUE(after) << httplib::to_string(after.error());
  EXPECT_EQ(after->status, 404) << "the faulted POST must not have reached the apiserver: "
                                << after->body;

  const std::vector<ProxyLogEntry> log = proxy.Log();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].method, "GET");
  EXPECT_EQ(log[0].status, 200);
  EXPECT_FALSE(log[0].injected);
  EXPECT_EQ(log[1].method, "POST");
  EXPECT_EQ(log[1].path, ConfigMaps());
  EXPECT_EQ(log[1].status, 429);
  EXPECT_TRUE(log[1].injected);
  EXPECT_EQ(log[2].status, 404);
  EXPECT_FALSE(log[2].injected);
  EXPECT_LE(log[0].at, log[1].at);
  EXPECT_LE(log[1].at, log[2].at);
}

TEST_F(FaultProxyTest, EveryNthFaultsOnlyEachNthRequest) {
  FaultProxy proxy(ClusterUpstream(), EveryNth(3, Answer(503)));
  auto client = ClientOf(proxy);
  for (int i = 1; i <= 9; ++i) {
    httplib::Result got = client->Get("/version");
    ASSERT_TRUE(got) << httplib::to_string(got.error());
    EXPECT_EQ(got->status, i % 3 == 0 ? 503 : 200) << "request " << i;
  }
  const std::vector<ProxyLogEntry> log = proxy.Log();
  ASSERT_EQ(log.size(), 9u);
  for (size_t i = 0; i < log.size(); ++i) EXPECT_EQ(log[i].injected, (i + 1) % 3 == 0) << i;
  EXPECT_EQ(nlohmann::json::parse(client->Get("/version")->body).count("gitVersion"), 1u);
}

TEST_F(FaultProxyTest, ForwardsEveryMethodWithItsQueryAndBody) {
  FaultProxy proxy(ClusterUpstream(), nullptr);
  auto client = ClientOf(proxy);
  const std::string path = ConfigMaps() + "/settings";

  httplib::Result created =
      client->Post(ConfigMaps(), ConfigMap("settings", "one"), "application/json");
  ASSERT_TRUE(created) << httplib::to_string(created.error());
  ASSERT_EQ(created->status, 201) << created->body;

  httplib::Result listed = client->Get(ConfigMaps() + "?labelSelector=app%3Dfault-proxy-test");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->status, 200) << listed->body;
  ASSERT_EQ(nlohmann::json::parse(listed->body)["items"].size(), 1u);
  httplib::Result none = client->Get(ConfigMaps() + "?labelSelector=app%3Dsomething-else");
  ASSERT_TRUE(none);
  EXPECT_EQ(nlohmann::json::parse(none->body)["items"].size(), 0u) << "the query is forwarded";

  nlohmann::json replaced = nlohmann::json::parse(created->body);
  replaced["data"]["key"] = "two";
  httplib::Result put = client->Put(path, replaced.dump(), "application/json");
  ASSERT_TRUE(put);
  ASSERT_EQ(put->status, 200) << put->body;
  EXPECT_EQ(nlohmann::json::parse(put->body)["data"]["key"], "two");
  // The resourceVersion it replaced is stale now: the apiserver's 409 comes through.
  httplib::Result stale = client->Put(path, replaced.dump(), "application/json");
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->status, 409) << stale->body;
  EXPECT_EQ(nlohmann::json::parse(stale->body)["reason"], "Conflict");

  httplib::Result patched =
      client->Patch(path, R"({"data":{"other":"three"}})", "application/merge-patch+json");
  ASSERT_TRUE(patched);
  ASSERT_EQ(patched->status, 200) << patched->body;
  EXPECT_EQ(nlohmann::json::parse(patched->body)["data"],
            nlohmann::json({{"key", "two"}, {"other", "three"}}));

  httplib::Result deleted = client->Delete(path);
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 200) << deleted->body;
  httplib::Result gone = client->Get(path);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);

  std::vector<std::string> methods;
  for (const ProxyLogEntry& entry : proxy.Log()) {
    EXPECT_FALSE(entry.injected);
    methods.push_back(entry.method);
  }
  EXPECT_EQ(methods, (std::vector<std::string>{"POST", "GET", "GET", "PUT", "PUT", "PATCH",
                                               "DELETE", "GET"}));
}

TEST_F(FaultProxyTest, DroppedConnectionIsAnErrorForTheClient) {
  FaultProxy proxy(ClusterUpstream(), [](const ProxiedRequest& request) -> std::optional<Fault> {
    if (request.method == "POST") return Drop();
    return std::nullopt;
  });
  auto client = ClientOf(proxy);
  httplib::Result dropped =
      client->Post(ConfigMaps(), ConfigMap("dropped", "v"), "application/json");
  EXPECT_FALSE(dropped);
  EXPECT_NE(dropped.error(), httplib::Error::Success);

  // The proxy goes on serving, and the dropped request never reached the apiserver.
  httplib::Result after = client->Get(ConfigMaps() + "/dropped");
  ASSERT_TRUE(after) << httplib::to_string(after.error());
  EXPECT_EQ(after->status, 404);

  const std::vector<ProxyLogEntry> log = proxy.Log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].method, "POST");
  EXPECT_EQ(log[0].status, 0);
  EXPECT_TRUE(log[0].injected);
  EXPECT_EQ(log[1].status, 404);
  EXPECT_FALSE(log[1].injected);
}

TEST_F(FaultProxyTest, ServesConcurrentRequests) {
  // Each request waits in the policy a little, so requests served one at a
  // time would never meet there.
  std::atomic<int> inside = 0, most_inside = 0;
  FaultPolicy every_fourth = EveryNth(4, TooManyRequests());
  FaultProxy proxy(ClusterUpstream(), [&](const ProxiedRequest& request) {
    const int now = ++inside;
    for (int seen = most_inside; now > seen && !most_inside.compare_exchange_weak(seen, now);) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    --inside;
    return every_fourth(request);
  });
  constexpr int kThreads = 8, kEach = 5;
  std::atomic<int> ok = 0, throttled = 0, other = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      auto client = ClientOf(proxy);
      client->set_keep_alive(true);
      for (int i = 0; i < kEach; ++i) {
        httplib::Result got = client->Get(ConfigMaps());
        if (got && got->status == 200) {
          ++ok;
        } else if (got && got->status == 429) {
          ++throttled;
        } else {
          ++other;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(other, 0);
  EXPECT_EQ(throttled, kThreads * kEach / 4);
  EXPECT_EQ(ok, kThreads * kEach - kThreads * kEach / 4);
  EXPECT_EQ(proxy.Log().size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_GE(most_inside, kThreads / 2);
}

// What a client that retries must achieve through a storm: every object
// created exactly once. The proxy's part is that no faulted request had any
// effect, so the forwarded POSTs are exactly the created objects.
TEST_F(FaultProxyTest, RetriesThroughARandomStormCreateEachObjectOnce) {
  FaultProxy proxy(ClusterUpstream(),
                   RandomFaults(0.5, {TooManyRequests(), Answer(503), Answer(500), Drop()},
                                /*seed=*/7));
  constexpr int kObjects = 10;
  for (int i = 0; i < kObjects; ++i) {
    bool created = false;
    for (int attempt = 0; attempt < 50 && !created; ++attempt) {
      httplib::Result answer = ClientOf(proxy)->Post(
          ConfigMaps(), ConfigMap("item-" + std::to_string(i), "v"), "application/json");
      ASSERT_TRUE(!answer || answer->status != 409) << "a faulted POST reached the apiserver";
      created = answer && answer->status == 201;
    }
    ASSERT_TRUE(created) << "item-" << i;
  }
  const std::vector<ProxyLogEntry> log = proxy.Log();
  const auto forwarded = std::count_if(log.begin(), log.end(),
                                       [](const ProxyLogEntry& entry) { return !entry.injected; });
  EXPECT_EQ(forwarded, kObjects);
  EXPECT_GT(log.size(), static_cast<size_t>(kObjects)) << "the storm injected some faults";

  httplib::Result listed =
      ClientOf(direct_)->Get(ConfigMaps() + "?labelSelector=app%3Dfault-proxy-test");
  ASSERT_TRUE(listed);
  EXPECT_EQ(nlohmann::json::parse(listed->body)["items"].size(), static_cast<size_t>(kObjects));
}

TEST_F(FaultProxyTest, RelaysAWatchEventByEvent) {
  auto proxy = std::make_unique<FaultProxy>(ClusterUpstream(), nullptr);
  const std::string watch =
      ConfigMaps() + "?watch=true&fieldSelector=metadata.name%3Dwatched&timeoutSeconds=60";
  std::promise<nlohmann::json> event;
  std::future<nlohmann::json> arrived = event.get_future();
  std::jthread watcher([&, client = ClientOf(*proxy)] {
    std::string received;
    bool delivered = false;
    // A client that takes gzip must still get each event as it happens.
    client->Get(watch, {{"Accept-Encoding", "gzip"}}, [&](const char* data, size_t size) {
      received.append(data, size);
      const size_t end = received.find('\n');
      if (end == std::string::npos) return true;
      event.set_value(nlohmann::json::parse(received.substr(0, end)));
      delivered = true;
      return false;  // the test has what it needs; hang up
    });
    if (!delivered) event.set_value(nullptr);
  });
  // Whatever fails below, the proxy goes first: that ends the watch, so the
  // watcher returns and can be joined.
  struct StopFirst {
    std::unique_ptr<FaultProxy>& proxy;
    ~StopFirst() { proxy.reset(); }
  } stop_first{proxy};

  // Once the watch is answered (its headers relayed), create what it watches.
  const auto deadline = steady_clock::now() + std::chrono::seconds(10);
  while (steady_clock::now() < deadline &&
         (proxy->Log().empty() || proxy->Log().front().status == 0)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(proxy->Log().size(), 1u);
  EXPECT_EQ(proxy->Log().front().status, 200);
  httplib::Result created =
      ClientOf(direct_)->Post(ConfigMaps(), ConfigMap("watched", "v"), "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201);

  ASSERT_EQ(arrived.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "the event did not arrive while the watch was open";
  const nlohmann::json got = arrived.get();
  ASSERT_TRUE(got.is_object());
  EXPECT_EQ(got["type"], "ADDED");
  EXPECT_EQ(got["object"]["metadata"]["name"], "watched");
  watcher.join();

  // The upstream watch is still open (it lasts until its timeoutSeconds);
  // stopping the proxy ends it rather than waiting.
  const auto stopping = steady_clock::now();
  proxy.reset();
  EXPECT_LT(steady_clock::now() - stopping, std::chrono::seconds(2));
}

TEST_F(FaultProxyTest, RelaysAWatchThatTheApiServerRefuses) {
  FaultProxy proxy(ClusterUpstream(), nullptr);
  httplib::Result refused = ClientOf(proxy)->Get("/api/v1/namespaces/default/nosuchthings?watch=1");
  ASSERT_TRUE(refused) << httplib::to_string(refused.error());
  EXPECT_EQ(refused->status, 404);
  EXPECT_EQ(nlohmann::json::parse(refused->body)["kind"], "Status");
  ASSERT_EQ(proxy.Log().size(), 1u);
  EXPECT_EQ(proxy.Log()[0].status, 404);
}

// httplib waits out its keep-alive timeout (5 s) on an idle connection before
// it can stop; the proxy must not make a test wait for that.
TEST_F(FaultProxyTest, StopsPromptlyWhileAClientKeepsItsConnectionOpen) {
  auto proxy = std::make_unique<FaultProxy>(ClusterUpstream(), nullptr);
  auto client = ClientOf(*proxy);
  client->set_keep_alive(true);
  ASSERT_TRUE(client->Get("/version"));
  const auto stopping = steady_clock::now();
  proxy.reset();
  EXPECT_LT(steady_clock::now() - stopping, std::chrono::seconds(2));
}

TEST(FaultPolicyTest, RandomFaultsRepeatWithTheSameSeed) {
  const std::vector<Fault> kinds = {Answer(429), Answer(503)};
  FaultPolicy a = RandomFaults(0.3, kinds, 42), b = RandomFaults(0.3, kinds, 42);
  FaultPolicy c = RandomFaults(0.3, kinds, 43);
  const ProxiedRequest request{"GET", "/api"};
  int faulted = 0, differs = 0, throttled = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::optional<Fault> x = a(request), y = b(request), z = c(request);
    ASSERT_EQ(x.has_value(), y.has_value()) << i;
    if (x) {
      ASSERT_EQ(x->status, y->status) << i;
      ++faulted;
      throttled += x->status == 429;
    }
    differs += x.has_value() != z.has_value();
  }
  EXPECT_GT(faulted, 240);
  EXPECT_LT(faulted, 360);
  EXPECT_GT(throttled, faulted / 4);
  EXPECT_LT(throttled, faulted * 3 / 4);
  EXPECT_GT(differs, 0) << "another seed, another sequence";

  FaultPolicy never = RandomFaults(0.0, kinds, 1), always = RandomFaults(1.0, kinds, 1);
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(never(request));
    EXPECT_TRUE(always(request));
  }
  EXPECT_THROW(EveryNth(0, Answer(503)), std::invalid_argument);
  EXPECT_THROW(RandomFaults(0.5, {}, 1), std::invalid_argument);
}

}  // namespace
}  // namespace ferry::testing
