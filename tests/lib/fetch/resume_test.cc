// Downloads cut mid-way by a server that drops the connection, ignores Range
// or goes silent: each still ends bit-exact, and (where the server can resume)
// nothing that had arrived crosses the wire again.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <numeric>
#include <thread>

#include "lib/common/file.h"
#include "lib/fetch/source.h"
#include "tests/lib/fetch/test_data.h"
#include "tests/lib/fetch/test_server.h"
#include "tests/support/temp_dir.h"

namespace ferry::fetch {
namespace {

using testing::RandomBytes;
using testing::TestServer;

constexpr size_t kPiece = 64 << 10;

// What the server did for each request, in order.
class RequestLog {
 public:
  struct Request {
    std::string range;  // the Range header, "" when absent
    size_t sent = 0;    // body bytes written
  };

  size_t Begin(const httplib::Request& request) {
    std::lock_guard lock(mutex_);
    requests_.push_back({request.get_header_value("Range")});
    return requests_.size() - 1;
  }
  void Sent(size_t index, size_t bytes) {
    std::lock_guard lock(mutex_);
    requests_[index].sent += bytes;
  }
  std::vector<Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Request> requests_;
};

FetchOptions QuickRetries() {
  FetchOptions options;
  options.initial_backoff = std::chrono::milliseconds(10);
  options.max_backoff = std::chrono::milliseconds(50);
  return options;
}

TEST(ResumeTest, DroppedConnectionsResumeFromTheByteAlreadyReceived) {
  const std::string data = RandomBytes(2 << 20);
  constexpr size_t kCuts = 3;
  constexpr size_t kCutAfter = 300 << 10;
  RequestLog log;
  TestServer server;
  server.server().Get(
      "/repo/blob", [&](const httplib::Request& request, httplib::Response& response) {
        const size_t index = log.Begin(request);
        auto sent = std::make_shared<size_t>(0);
        // httplib answers "bytes=K-" itself, calling the provider from offset K.
        response.set_content_provider(
            data.size(), "application/octet-stream",
            [&, index, sent](size_t offset, size_t length, httplib::DataSink& sink) {
              size_t n = std::min(length, kPiece);
              if (index < kCuts) n = std::min(n, kCutAfter - *sent);
              if (n == 0) return false;  // drop the connection mid-body
              *sent += n;
              log.Sent(index, n);
              return sink.write(data.data() + offset, n);
            });
      });
  server.Start();
  ferry::testing::TempDir dir;
  Result<std::unique_ptr<Source>> source = OpenSource(server.url() + "/repo", QuickRetries());
  ASSERT_TRUE(source.ok()) << source.error().message;

  Status status = (*source)->FetchToFile("blob", dir / "out", data.size(), nullptr);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(*ReadFileToString(dir / "out"), data);

  const std::vector<RequestLog::Request> requests = log.requests();
  ASSERT_EQ(requests.size(), kCuts + 1);
  EXPECT_EQ(requests[0].range, "");
  size_t received = 0;
  for (const RequestLog::Request& request : requests) {
    if (received > 0) {
      EXPECT_EQ(request.range, "bytes=" + std::to_string(received) + "-");
    }
    received += request.sent;
  }
  EXPECT_EQ(received, data.size()) << "every byte crossed the wire exactly once";
}

// Answers GET /blob with 200 and all of `data` whatever Range asks for,
// dropping the first `cuts` answers after `cut_after` bytes.
void ServeIgnoringRange(TestServer& server, RequestLog& log, const std::string& data, size_t cuts,
                        size_t cut_after) {
  server.server().Get(
      "/blob", [&, cuts, cut_after](const httplib::Request& request, httplib::Response& response) {
        const size_t index = log.Begin(request);
        const size_t end = index < cuts ? cut_after : data.size();
        // 200 and a chunked body: httplib leaves such an answer alone, whatever
        // Range asked for.
        response.status = 200;
        response.set_chunked_content_provider(
            "application/octet-stream", [&, index, end](size_t offset, httplib::DataSink& sink) {
              if (offset == end) {
                if (end != data.size()) return false;  // drop the connection mid-body
                sink.done();
                return true;
              }
              const size_t n = std::min(end - offset, kPiece);
              log.Sent(index, n);
              return sink.write(data.data() + offset, n);
            });
      });
  server.Start();
}

TEST(ResumeTest, AServerIgnoringRangeMakesTheFileRestartCleanly) {
  const std::string data = RandomBytes(1 << 20);
  constexpr size_t kCutAfter = 500 << 10;
  RequestLog log;
  TestServer server;
  ServeIgnoringRange(server, log, data, 1, kCutAfter);
  ferry::testing::TempDir dir;
  // An earlier run left bytes that are not the server's.
  ASSERT_TRUE(WriteFileAtomically(dir / "out", std::string(100 << 10, 'x')).ok());
  Result<std::unique_ptr<Source>> source = OpenSource(server.url(), QuickRetries());
  ASSERT_TRUE(source.ok());

  Status status = (*source)->FetchToFile("blob", dir / "out", data.size(), nullptr);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(*ReadFileToString(dir / "out"), data);
  const std::vector<RequestLog::Request> requests = log.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].range, "bytes=" + std::to_string(100 << 10) + "-");
  EXPECT_EQ(requests[1].range, "bytes=" + std::to_string(kCutAfter) + "-");
}

TEST(ResumeTest, AServerThatStartsOverAndNeverFinishesIsGivenUpOn) {
  // Each answer delivers bytes, but none gets the file further than the first.
  const std::string data = RandomBytes(1 << 20);
  RequestLog log;
  TestServer server;
  ServeIgnoringRange(server, log, data, 1000, 500 << 10);
  FetchOptions options = QuickRetries();
  options.max_attempts = 3;
  Result<std::unique_ptr<Source>> source = OpenSource(server.url(), options);
  ASSERT_TRUE(source.ok());
  ferry::testing::TempDir dir;

  Status status = (*source)->FetchToFile("blob", dir / "out", data.size(), nullptr);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(log.requests().size(), 3u);
}

TEST(ResumeTest, ASilentConnectionIsNoticedAndResumed) {
  const std::string data = RandomBytes(1 << 20);
  constexpr size_t kBeforeSilence = 256 << 10;
  RequestLog log;
  TestServer server;
  server.server().Get("/blob", [&](const httplib::Request& request, httplib::Response& response) {
    const size_t index = log.Begin(request);
    response.set_content_provider(
        data.size(), "application/octet-stream",
        [&, index](size_t offset, size_t length, httplib::DataSink& sink) {
          if (index == 0 && offset == kBeforeSilence) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2500));
            return false;
          }
          const size_t n =
              std::min({length, kPiece, index == 0 ? kBeforeSilence - offset : length});
          log.Sent(index, n);
          return sink.write(data.data() + offset, n);
        });
  });
  server.Start();
  ferry::testing::TempDir dir;
  FetchOptions options = QuickRetries();
  options.read_timeout = std::chrono::seconds(1);
  Result<std::unique_ptr<Source>> source = OpenSource(server.url(), options);
  ASSERT_TRUE(source.ok());

  Status status = (*source)->FetchToFile("blob", dir / "out", data.size(), nullptr);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(*ReadFileToString(dir / "out"), data);
  const std::vector<RequestLog::Request> requests = log.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].range, "bytes=" + std::to_string(kBeforeSilence) + "-");
}

}  // namespace
}  // namespace ferry::fetch
