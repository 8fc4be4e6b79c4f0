// HealthServer as Prometheus and the kubelet see it, over real HTTP on
// loopback; and the --metrics-addr forms it accepts and refuses.
#include "lib/common/health_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace ferry {
namespace {

class HealthServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<HealthServer>> server =
        HealthServer::Start("127.0.0.1:0", registry_, [this]() -> Status {
          if (ready_) return OkStatus();
          return MakeError(ErrorCode::kUnavailable, "informer caches not synced");
        });
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
    ASSERT_GT(server_->port(), 0);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }

  MetricsRegistry registry_;
  Counter& reconciles_ = registry_.AddCounter("reconciles_total", "Reconciles.").WithLabels({});
  std::atomic<bool> ready_ = false;
  std::unique_ptr<HealthServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HealthServerTest, ServesMetricsAsTheyAreNow) {
  httplib::Result result = client_->Get("/metrics");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(result->body,
            "# HELP reconciles_total Reconciles.\n"
            "# TYPE reconciles_total counter\n"
            "reconciles_total 0\n");

  reconciles_.Inc(3);
  result = client_->Get("/metrics");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->body, registry_.Render());
  EXPECT_NE(result->body.find("reconciles_total 3\n"), std::string::npos);
}

TEST_F(HealthServerTest, ReadinessFollowsTheCallback) {
  httplib::Result result = client_->Get("/readyz");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 503);
  EXPECT_EQ(result->body, "informer caches not synced");

  ready_ = true;
  result = client_->Get("/readyz");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "ok");

  ready_ = false;
  result = client_->Get("/readyz");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 503);
}

TEST_F(HealthServerTest, LiveWhileServingEvenWhenNotReady) {
  httplib::Result result = client_->Get("/healthz");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "ok");
}

TEST_F(HealthServerTest, OtherPathsAreNotFound) {
  for (const char* path : {"/", "/metricsx", "/metrics/", "/healthz/extra", "/debug/pprof"}) {
    httplib::Result result = client_->Get(path);
    ASSERT_TRUE(result) << path;
    EXPECT_EQ(result->status, 404) << path;
  }
  httplib::Result result = client_->Post("/metrics", "", "text/plain");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 404);
}

TEST_F(HealthServerTest, RefusesATakenPortNamingIt) {
  const std::string address = "127.0.0.1:" + std::to_string(server_->port());
  Result<std::unique_ptr<HealthServer>> second = HealthServer::Start(address, registry_, nullptr);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(second.error().message.find(address), std::string::npos) << second.error().message;
  // The first keeps all the traffic.
  for (int i = 0; i < 5; ++i) {
    httplib::Result result = client_->Get("/healthz");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 200);
  }
}

TEST_F(HealthServerTest, StopsPromptlyWithAKeptAliveConnection) {
  client_->set_keep_alive(true);
  ASSERT_TRUE(client_->Get("/healthz"));
  const auto start = std::chrono::steady_clock::now();
  server_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_FALSE(client_->Get("/healthz"));
}

// A TCP health check (or a port scanner) that connects and says nothing.
TEST_F(HealthServerTest, StopsPromptlyWithASilentConnection) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(server_->port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let a worker take it
  const auto start = std::chrono::steady_clock::now();
  server_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  ::close(fd);
}

TEST(HealthServerStartTest, NoReadinessCheckMeansReady) {
  MetricsRegistry registry;
  Result<std::unique_ptr<HealthServer>> server = HealthServer::Start(":0", registry, nullptr);
  ASSERT_TRUE(server.ok()) << server.error().message;
  httplib::Client client("127.0.0.1", (*server)->port());
  httplib::Result result = client.Get("/readyz");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  // Nothing registered is an empty page, not an error.
  result = client.Get("/metrics");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "");
}

TEST(HealthServerStartTest, ListensOnIpv6Loopback) {
  MetricsRegistry registry;
  Result<std::unique_ptr<HealthServer>> server = HealthServer::Start("[::1]:0", registry, nullptr);
  if (!server.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << server.error().message;
  httplib::Client client("::1", (*server)->port());
  httplib::Result result = client.Get("/healthz");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->body, "ok");
}

TEST(HealthServerStartTest, RefusesMalformedAddresses) {
  MetricsRegistry registry;
  for (const char* bad : {"",
                          "9090",
                          "127.0.0.1",
                          "127.0.0.1:",
                          "127.0.0.1:http",
                          "127.0.0.1:65536",
                          "127.0.0.1:-1",
                          "127.0.0.1:+80",
                          "127.0.0.1:123456",
                          "::1:9090",
                          "[::1]9090",
                          "[::1",
                          "[::1]:",
                          "[nope]:9090",
                          "[127.0.0.1]:9090",
                          "300.1.1.1:9090",
                          "1.2.3:9090",
                          "a b:9090",
                          "-host:9090",
                          "host..x:1"}) {
    Result<std::unique_ptr<HealthServer>> server = HealthServer::Start(bad, registry, nullptr);
    ASSERT_FALSE(server.ok()) << bad;
    EXPECT_EQ(server.error().code, ErrorCode::kInvalidArgument) << bad;
    EXPECT_NE(server.error().message.find("\"" + std::string(bad) + "\""), std::string::npos)
        << server.error().message;
    EXPECT_NE(server.error().message.find("HOST:PORT"), std::string::npos)
        << server.error().message;
  }
}

}  // namespace
}  // namespace ferry
