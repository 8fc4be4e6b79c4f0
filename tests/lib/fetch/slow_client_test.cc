// RepositoryServer against clients that are slow on purpose (slowloris: a
// request header sent one line every 2 s), too many from one address, or
// sending more header than allowed: the others are still answered, and the
// offenders are closed with the answer the limit names.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "lib/common/file.h"
#include "lib/fetch/server.h"
#include "tests/lib/fetch/captured_log.h"
#include "tests/lib/fetch/raw_tcp.h"
#include "tests/lib/fetch/test_data.h"
#include "tests/support/temp_dir.h"

namespace ferry::fetch {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using testing::CapturedLog;
using testing::ConnectToLoopback;
using testing::RandomBytes;
using testing::ReadUntilClosed;
using testing::SendAll;
using testing::SleepUnless;

class SlowClientTest : public ::testing::Test {
 protected:
  void Start(const ClientLimits& limits) {
    std::filesystem::create_directories(dir_ / "repo/objects");
    ASSERT_TRUE(WriteFileAtomically(dir_ / "repo/objects/blob", data_).ok());
    ASSERT_TRUE(WriteFileAtomically(dir_ / "repo/small", "small").ok());
    Result<std::unique_ptr<RepositoryServer>> server =
        RepositoryServer::Start(dir_ / "repo", "127.0.0.1", 0, log_.logger(), limits);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
  }

  // A GET on a connection of its own, as a node that just came up would make.
  void ExpectNormalGetAnswered() {
    httplib::Client client("127.0.0.1", server_->port());
    // Generous: on a loaded machine, not a measure of speed.
    client.set_connection_timeout(std::chrono::seconds(15));
    client.set_read_timeout(std::chrono::seconds(15));
    httplib::Result result = client.Get("/objects/blob");
    ASSERT_TRUE(result) << "no answer: " << httplib::to_string(result.error());
    EXPECT_EQ(result->status, 200);
    EXPECT_TRUE(result->body == data_) << "wrong bytes, " << result->body.size();
  }

  bool LogHas(const std::string& text) const {
    for (const std::string& line : log_.lines()) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }

  ferry::testing::TempDir dir_;
  const std::string data_ = RandomBytes(1 << 20);
  CapturedLog log_;
  std::unique_ptr<RepositoryServer> server_;
};

// What one slowloris client saw of its first connection.
struct SlowClient {
  std::atomic<bool> connected = false;
  std::atomic<bool> answered_408 = false;      // the server said why it closed
  std::atomic<bool> closed_by_server = false;  // and closed
  std::atomic<int64_t> held_ms = 0;            // from connect to close
  std::atomic<int> connections = 0;
};

// Sends a request header one line every 2 s, reconnecting whenever the
// server closes, until `stopping`.
void RunSlowloris(int port, SlowClient& record, const std::atomic<bool>& stopping) {
  while (!stopping) {
    // Before connecting: the server's clock for this connection starts later.
    const Clock::time_point connected = Clock::now();
    UniqueFd fd = ConnectToLoopback(port);
    if (!fd.valid()) return;
    const bool first = record.connections++ == 0;
    record.connected = true;
    bool open = SendAll(fd.get(), "GET /objects/blob HTTP/1.1\r\nHost: repository\r\n");
    for (int line = 0; open && !stopping; ++line) {
      // Between lines, watch for the server's answer or close.
      bool closed = false;
      const std::string answer = ReadUntilClosed(fd.get(), milliseconds(2000), &closed);
      if (closed || !answer.empty()) {
        if (first) {
          record.answered_408 = answer.starts_with("HTTP/1.1 408");
          record.closed_by_server = closed;
          record.held_ms =
              std::chrono::duration_cast<milliseconds>(Clock::now() - connected).count();
        }
        break;
      }
      open = SendAll(fd.get(), "X-Slow-" + std::to_string(line) + ": still typing\r\n");
    }
  }
}

TEST_F(SlowClientTest, ThirtyTwoSlowlorisClientsDoNotStopTheServerAnsweringOthers) {
  ClientLimits limits;
  limits.header_timeout = milliseconds(5000);
  Start(limits);
  constexpr int kSlowClients = 32;
  std::vector<SlowClient> records(kSlowClients);
  std::atomic<bool> stopping = false;
  std::vector<std::thread> clients;
  for (SlowClient& record : records) {
    clients.emplace_back([&, port = server_->port()] { RunSlowloris(port, record, stopping); });
  }
  for (const SlowClient& record : records) {
    while (!record.connected) std::this_thread::sleep_for(milliseconds(10));
  }
  // Normal GETs while every slow client is mid-header, then while they
  // reconnect after being closed.
  for (int i = 0; i < 3; ++i) {
    SleepUnless(stopping, milliseconds(2500));
    ExpectNormalGetAnswered();
  }
  // Long enough for every first connection to pass its header deadline.
  SleepUnless(stopping, milliseconds(3000));
  stopping = true;
  for (std::thread& client : clients) client.join();

  for (const SlowClient& record : records) {
    EXPECT_TRUE(record.closed_by_server);
    EXPECT_TRUE(record.answered_408);
    EXPECT_GE(record.held_ms, 5000) << "closed before its header deadline";
    EXPECT_GE(record.connections, 2) << "it kept trying after being closed";
  }
  EXPECT_TRUE(LogHas("its request header was not complete within 5000 ms"));
}

TEST_F(SlowClientTest, OneAddressPastItsConnectionCapGets503AndOthersStayServed) {
  ClientLimits limits;
  limits.max_connections_per_client = 4;
  Start(limits);
  // Four connections that hold a half-sent request.
  std::vector<UniqueFd> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(ConnectToLoopback(server_->port()));
    ASSERT_TRUE(SendAll(held.back().get(), "GET /small HTTP/1.1\r\n"));
  }
  UniqueFd fifth = ConnectToLoopback(server_->port());
  ASSERT_TRUE(fifth.valid());
  bool closed = false;
  const std::string answer = ReadUntilClosed(fifth.get(), milliseconds(10000), &closed);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 503")) << answer;
  EXPECT_NE(answer.find("Retry-After: 1"), std::string::npos) << answer;
  EXPECT_TRUE(closed);
  EXPECT_TRUE(LogHas("127.0.0.1 refused"));

  // Once one of them goes, a new connection is served; the server notices
  // the close on its own time, so a 503 before that is retried.
  held.pop_back();
  int status = 0;
  for (int attempt = 0; attempt < 100 && status != 200; ++attempt) {
    httplib::Client client("127.0.0.1", server_->port());
    httplib::Result result = client.Get("/small");
    status = result ? result->status : 0;
    if (status != 200) std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(status, 200);
}

TEST_F(SlowClientTest, AnOversizedHeaderGets431) {
  ClientLimits limits;
  limits.max_header_bytes = 1000;
  Start(limits);
  UniqueFd fd = ConnectToLoopback(server_->port());
  ASSERT_TRUE(SendAll(fd.get(), "GET /small HTTP/1.1\r\nX-Big: " + std::string(3000, 'a')));
  bool closed = false;
  const std::string answer = ReadUntilClosed(fd.get(), milliseconds(10000), &closed);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 431")) << answer;
  EXPECT_TRUE(closed);
}

TEST_F(SlowClientTest, PipelinedRequestsAreAnsweredInOrder) {
  Start({});
  UniqueFd fd = ConnectToLoopback(server_->port());
  ASSERT_TRUE(SendAll(fd.get(),
                      "GET /small HTTP/1.1\r\nHost: r\r\n\r\n"
                      "GET /objects/blob HTTP/1.1\r\nHost: r\r\nRange: bytes=0-9\r\n\r\n"
                      "GET /small HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n"));
  bool closed = false;
  const std::string answers = ReadUntilClosed(fd.get(), milliseconds(10000), &closed);
  EXPECT_TRUE(closed);
  const size_t first = answers.find("HTTP/1.1 200");
  const size_t second = answers.find("HTTP/1.1 206", first);
  const size_t third = answers.find("HTTP/1.1 200", second);
  ASSERT_NE(first, std::string::npos) << answers;
  ASSERT_NE(second, std::string::npos) << answers;
  ASSERT_NE(third, std::string::npos) << answers;
  EXPECT_NE(answers.find("\r\n\r\nsmall", first), std::string::npos);
  EXPECT_NE(answers.find("\r\n\r\n" + data_.substr(0, 10), second), std::string::npos);
  EXPECT_TRUE(answers.ends_with("\r\n\r\nsmall")) << answers.substr(third);
}

TEST_F(SlowClientTest, AClientThatStopsReadingIsCut) {
  // 64 MiB does not fit in the socket buffers, so the answer stalls as soon as
  // the client stops reading.
  const std::string big(64 << 20, 'b');
  ClientLimits limits;
  limits.send_timeout = milliseconds(1000);
  Start(limits);
  ASSERT_TRUE(WriteFileAtomically(dir_ / "repo/big", big).ok());
  UniqueFd fd = ConnectToLoopback(server_->port());
  ASSERT_TRUE(SendAll(fd.get(), "GET /big HTTP/1.1\r\nHost: r\r\n\r\n"));
  // Generous against the 1 s send timeout: the cut is what is checked.
  for (int i = 0; i < 300 && !LogHas("took the answer too slowly"); ++i) {
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_TRUE(LogHas("127.0.0.1 cut: it took the answer too slowly"));
  bool closed = false;
  const std::string received = ReadUntilClosed(fd.get(), milliseconds(10000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(received.size(), big.size());
  ExpectNormalGetAnswered();
}

}  // namespace
}  // namespace ferry::fetch
