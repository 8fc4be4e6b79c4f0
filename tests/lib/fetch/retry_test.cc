// Transient failures are retried with backoff, a server's Retry-After is
// honoured, and permanent answers are not retried.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "lib/common/file.h"
#include "lib/fetch/source.h"
#include "tests/lib/fetch/test_server.h"
#include "tests/support/temp_dir.h"

namespace ferry::fetch {
namespace {

using testing::TestServer;

FetchOptions QuickRetries() {
  FetchOptions options;
  options.initial_backoff = std::chrono::milliseconds(10);
  options.max_backoff = std::chrono::seconds(2);
  return options;
}

// A server whose first `failures` answers to GET /blob have `status`.
class FailingServer {
 public:
  FailingServer(int status, int failures, bool retry_after = false) {
    server_.server().Get("/blob", [=, this](const httplib::Request&, httplib::Response& response) {
      if (requests_++ < failures) {
        response.status = status;
        if (retry_after) response.set_header("Retry-After", "1");
        return;
      }
      response.set_content("contents", "application/octet-stream");
    });
    server_.Start();
  }

  std::unique_ptr<Source> Open(int max_attempts = 6) {
    FetchOptions options = QuickRetries();
    options.max_attempts = max_attempts;
    Result<std::unique_ptr<Source>> source = OpenSource(server_.url(), options);
    EXPECT_TRUE(source.ok());
    return std::move(*source);
  }
  std::string url() const { return server_.url(); }
  int requests() const { return requests_; }

 private:
  std::atomic<int> requests_ = 0;
  TestServer server_;
};

TEST(RetryTest, UnavailableTwiceThenSuccess) {
  FailingServer server(503, 2);
  ferry::testing::TempDir dir;
  Status status = server.Open()->FetchToFile("blob", dir / "out", 8, nullptr);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(*ReadFileToString(dir / "out"), "contents");
  EXPECT_EQ(server.requests(), 3);
}

TEST(RetryTest, SmallReadsAreRetriedToo) {
  FailingServer server(502, 2);
  Result<std::string> read = server.Open()->ReadSmall("blob");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, "contents");
  EXPECT_EQ(server.requests(), 3);
}

TEST(RetryTest, TooManyRequestsWaitsAsToldByRetryAfter) {
  FailingServer server(429, 2, /*retry_after=*/true);
  ferry::testing::TempDir dir;
  const auto start = std::chrono::steady_clock::now();
  Status status = server.Open()->FetchToFile("blob", dir / "out", 8, nullptr);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(server.requests(), 3);
  // Two waits of Retry-After: 1, where the backoff alone would wait ~20 ms.
  EXPECT_GE(elapsed.count(), 1.9);
}

TEST(RetryTest, GivesUpAfterMaxAttemptsNamingTheUrlAndStatus) {
  FailingServer server(500, 1000);
  ferry::testing::TempDir dir;
  Status status = server.Open(3)->FetchToFile("blob", dir / "out", 8, nullptr);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(status.error().code, ErrorCode::kUnavailable);
  const std::string& message = status.error().message;
  EXPECT_NE(message.find(server.url() + "/blob"), std::string::npos) << message;
  EXPECT_NE(message.find("HTTP 500"), std::string::npos) << message;
  EXPECT_NE(message.find("3 attempts"), std::string::npos) << message;
}

TEST(RetryTest, NotFoundIsNotRetried) {
  FailingServer server(404, 1000);
  ferry::testing::TempDir dir;
  Status status = server.Open()->FetchToFile("blob", dir / "out", 8, nullptr);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(server.requests(), 1);
}

TEST(RetryTest, ARefusedConnectionIsRetriedThenReported) {
  // A port that was free a moment ago: nothing listens there now.
  std::string url;
  {
    TestServer closed;
    closed.Start();
    url = closed.url();
  }
  FetchOptions options = QuickRetries();
  options.max_attempts = 2;
  Result<std::unique_ptr<Source>> source = OpenSource(url, options);
  ASSERT_TRUE(source.ok());
  ferry::testing::TempDir dir;
  Status status = (*source)->FetchToFile("blob", dir / "out", {}, nullptr);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(status.error().message.find("could not connect"), std::string::npos)
      << status.error().message;
}

}  // namespace
}  // namespace ferry::fetch
