// The low-speed limit and the default timeouts against servers that are
// alive but hardly (trickling their body or their headers, a few bytes per
// connection) or dead after their headers, all simulated on plain sockets;
// and the slow-but-steady links that must still work.
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "lib/common/file.h"
#include "lib/fetch/source.h"
#include "tests/lib/fetch/raw_tcp.h"
#include "tests/lib/fetch/test_data.h"
#include "tests/support/temp_dir.h"

namespace ferry::fetch {
namespace {

using std::chrono::milliseconds;
using testing::RandomBytes;
using testing::ReadRequestHeader;
using testing::ScriptedTcpServer;
using testing::SendAll;
using testing::SleepUnless;

// The Range header of each request, in order.
class RangeLog {
 public:
  void Add(std::string range) {
    std::lock_guard lock(mutex_);
    ranges_.push_back(std::move(range));
  }
  std::vector<std::string> ranges() const {
    std::lock_guard lock(mutex_);
    return ranges_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> ranges_;
};

// Serves `data` to any GET, honouring "Range: bytes=K-", and sends it `piece`
// bytes at a time with `pause` before each piece; at most `limit` bytes per
// connection, after which it hangs up.
ScriptedTcpServer::Serve PacedFile(const std::string& data, size_t piece, milliseconds pause,
                                   RangeLog* log = nullptr, size_t limit = SIZE_MAX) {
  return [&data, piece, pause, log, limit](int fd, const std::atomic<bool>& stopping) {
    const std::optional<std::string> request = ReadRequestHeader(fd);
    if (!request) return;
    size_t start = 0;
    std::string range;
    if (const size_t at = request->find("Range: bytes="); at != std::string::npos) {
      start = std::stoul(request->substr(at + 13));
      range = "bytes=" + std::to_string(start) + "-";
    }
    if (log != nullptr) log->Add(range);
    const std::string length = std::to_string(data.size() - start);
    const std::string head =
        (start == 0 ? std::string("HTTP/1.1 200 OK\r\n")
                    : "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " +
                          std::to_string(start) + "-" + std::to_string(data.size() - 1) + "/" +
                          std::to_string(data.size()) + "\r\n") +
        "Content-Length: " + length + "\r\nConnection: close\r\n\r\n";
    if (!SendAll(fd, head)) return;
    size_t sent = 0;
    for (size_t offset = start; offset < data.size() && sent < limit; offset += piece) {
      if (!SleepUnless(stopping, pause)) return;
      const size_t n = std::min({piece, data.size() - offset, limit - sent});
      if (!SendAll(fd, std::string_view(data).substr(offset, n))) return;
      sent += n;
    }
  };
}

// 1000 bytes/s over 2 s, quick retries: a test-sized version of the defaults.
FetchOptions ShortWindow(int max_attempts = 2) {
  FetchOptions options;
  options.low_speed_limit = 1000;
  options.low_speed_time = std::chrono::seconds(2);
  options.max_attempts = max_attempts;
  options.initial_backoff = milliseconds(10);
  options.max_backoff = milliseconds(50);
  return options;
}

std::unique_ptr<Source> Open(const std::string& url, const FetchOptions& options) {
  Result<std::unique_ptr<Source>> source = OpenSource(url, options);
  EXPECT_TRUE(source.ok()) << source.error().message;
  return source.ok() ? std::move(*source) : nullptr;
}

void ExpectTooSlow(const Error& error, const std::string& url, int attempts) {
  EXPECT_EQ(error.code, ErrorCode::kUnavailable) << error.message;
  EXPECT_NE(error.message.find("GET " + url), std::string::npos) << error.message;
  EXPECT_NE(
      error.message.find("bytes/s over the last 2 s, below the low-speed limit of 1000 bytes/s"),
      std::string::npos)
      << error.message;
  EXPECT_NE(error.message.find("gave up after " + std::to_string(attempts) + " attempts"),
            std::string::npos)
      << error.message;
}

TEST(LowSpeedTest, ATricklingBodyFailsTheFetchAsTransientAndKeepsWhatArrived) {
  // 5 bytes/s; unchecked, the whole file would take 40 s and succeed.
  const std::string data = RandomBytes(200);
  RangeLog log;
  ScriptedTcpServer server(PacedFile(data, 1, milliseconds(200), &log));
  ferry::testing::TempDir dir;

  Status status = Open(server.url(), ShortWindow())->FetchToFile("blob", dir / "out", 200, nullptr);
  ASSERT_FALSE(status.ok());
  ExpectTooSlow(status.error(), server.url() + "/blob", 2);

  // The second attempt resumed from what the first left, and what arrived is kept.
  const std::vector<std::string> ranges = log.ranges();
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], "");
  ASSERT_NE(ranges[1], "");
  const std::string kept = *ReadFileToString(dir / "out");
  EXPECT_GT(kept.size(), std::stoul(ranges[1].substr(6)));
  EXPECT_LT(kept.size(), data.size());
  EXPECT_EQ(kept, data.substr(0, kept.size()));
}

TEST(LowSpeedTest, ATricklingSmallReadFailsToo) {
  const std::string data = RandomBytes(200);
  ScriptedTcpServer server(PacedFile(data, 1, milliseconds(200)));

  Result<std::string> read = Open(server.url(), ShortWindow())->ReadSmall("manifest.json");
  ASSERT_FALSE(read.ok());
  ExpectTooSlow(read.error(), server.url() + "/manifest.json", 2);
}

TEST(LowSpeedTest, TrickledHeadersFailTheFetchToo) {
  // 200 header bytes at 5 bytes/s: no read ever waits long, so only a limit on
  // the exchange as a whole stops it.
  ScriptedTcpServer server([](int fd, const std::atomic<bool>& stopping) {
    if (!ReadRequestHeader(fd)) return;
    const std::string head = "HTTP/1.1 200 OK\r\nX-Filler: " + std::string(160, 'a') +
                             "\r\nContent-Length: 4\r\n\r\nbody";
    for (char byte : head) {
      if (!SleepUnless(stopping, milliseconds(200)) || !SendAll(fd, std::string(1, byte))) return;
    }
  });
  ferry::testing::TempDir dir;

  Status status = Open(server.url(), ShortWindow())->FetchToFile("blob", dir / "out", 4, nullptr);
  ASSERT_FALSE(status.ok());
  ExpectTooSlow(status.error(), server.url() + "/blob", 2);
}

TEST(LowSpeedTest, AFewBytesPerConnectionDoNotCountAsProgress) {
  // Each connection moves the download 10 bytes further and hangs up. Were
  // that progress, the count of attempts would never run out.
  const std::string data = RandomBytes(2000);
  RangeLog log;
  ScriptedTcpServer server(PacedFile(data, 10, milliseconds(0), &log, /*limit=*/10));
  ferry::testing::TempDir dir;

  Status status =
      Open(server.url(), ShortWindow(3))->FetchToFile("blob", dir / "out", data.size(), nullptr);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(status.error().message.find("gave up after 3 attempts"), std::string::npos)
      << status.error().message;
  EXPECT_EQ(log.ranges().size(), 3u);
  EXPECT_EQ(*ReadFileToString(dir / "out"), data.substr(0, 30));
}

TEST(LowSpeedTest, ASlowButSteadyServerAboveTheLimitCompletes) {
  // About 5000 bytes/s for 3 s, against a limit of 1000 bytes/s over 2 s.
  const std::string data = RandomBytes(15000);
  RangeLog log;
  ScriptedTcpServer server(PacedFile(data, 500, milliseconds(100), &log));
  ferry::testing::TempDir dir;

  Status status =
      Open(server.url(), ShortWindow())->FetchToFile("blob", dir / "out", data.size(), nullptr);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(*ReadFileToString(dir / "out"), data);
  EXPECT_EQ(log.ranges().size(), 1u) << "no attempt was cut";
}

TEST(LowSpeedTest, OurOwnBandwidthCapIsNotTheServersSlowness) {
  // The cap holds the transfer to 1000 bytes/s, below the 2000 bytes/s limit:
  // the time spent waiting on the cap must not count against the server.
  const std::string data = RandomBytes(5000);
  RangeLog log;
  ScriptedTcpServer server(PacedFile(data, data.size(), milliseconds(0), &log));
  FetchOptions options = ShortWindow();
  options.low_speed_limit = 2000;
  options.low_speed_time = std::chrono::seconds(1);
  options.bandwidth_limit = 1000;
  ferry::testing::TempDir dir;

  Status status =
      Open(server.url(), options)->FetchToFile("blob", dir / "out", data.size(), nullptr);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(*ReadFileToString(dir / "out"), data);
  EXPECT_EQ(log.ranges().size(), 1u) << "no attempt was cut";
}

TEST(LowSpeedTest, ASilentServerAfterItsHeadersFailsWithinTheDefaultAttempts) {
  // With the default options, as `ferryctl pull` uses them: docs/fetch.md
  // bounds this at 4 attempts of 10 s (it was 6 of 30 s, over three minutes).
  // The manifest and an object are read at once.
  ScriptedTcpServer server([](int fd, const std::atomic<bool>& stopping) {
    if (!ReadRequestHeader(fd)) return;
    if (!SendAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")) return;
    while (SleepUnless(stopping, milliseconds(1000))) {
    }
  });
  std::unique_ptr<Source> source = Open(server.url(), FetchOptions{});
  ferry::testing::TempDir dir;

  auto manifest =
      std::async(std::launch::async, [&] { return source->ReadSmall("manifest.json"); });
  auto object = std::async(std::launch::async, [&] {
    return source->FetchToFile("objects/x", dir / "x", 1000, nullptr);
  });
  Result<std::string> read = manifest.get();
  Status fetched = object.get();

  ASSERT_FALSE(read.ok());
  ASSERT_FALSE(fetched.ok());
  for (const Error& error : {read.error(), fetched.error()}) {
    EXPECT_EQ(error.code, ErrorCode::kUnavailable) << error.message;
    // The read timeout (10 s) ends each attempt, unless a loaded machine lets
    // the low-speed window (15 s) come first; either is the documented bound.
    EXPECT_TRUE(error.message.find("went silent") != std::string::npos ||
                error.message.find("below the low-speed limit") != std::string::npos)
        << error.message;
    EXPECT_NE(error.message.find("gave up after 4 attempts"), std::string::npos) << error.message;
  }
  EXPECT_EQ(server.connections(), 8);
}

}  // namespace
}  // namespace ferry::fetch
