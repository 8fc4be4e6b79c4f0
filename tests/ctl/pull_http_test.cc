// Pulling over real HTTP from a test server that misbehaves the way networks
// do: it drops every object's first response half-way, or turns to 503s for
// good after a few objects. Transfers must resume where they stopped (HTTP
// Range), and nothing verified may be fetched twice, within a run or across runs.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "tests/ctl/ferryctl_fixture.h"

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;

// Serves a repository folder (GET with byte ranges) and records, per chunk
// object, the Range of each request and the bytes sent.
class FlakyRepositoryServer {
 public:
  enum class Mode { kCutFirstResponseHalfway, kFailAfterObjects, kHealthy };

  explicit FlakyRepositoryServer(fs::path root) : root_(std::move(root)) {
    server_.Get(R"(/(.*))", [this](const httplib::Request& request, httplib::Response& response) {
      Serve(request, response);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~FlakyRepositoryServer() {
    server_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void SetMode(Mode mode, int objects_before_failing = 0) {
    std::lock_guard lock(mutex_);
    mode_ = mode;
    objects_left_ = objects_before_failing;
  }
  std::map<std::string, uint64_t> BytesSentPerObject() {
    std::lock_guard lock(mutex_);
    return bytes_sent_;
  }
  std::map<std::string, std::vector<std::string>> RangesPerObject() {
    std::lock_guard lock(mutex_);
    return ranges_;
  }

 private:
  void Serve(const httplib::Request& request, httplib::Response& response) {
    const std::string path = request.matches[1];
    const fs::path file = root_ / path;
    if (path.find("..") != std::string::npos || !fs::is_regular_file(file)) {
      response.status = 404;
      return;
    }
    const bool object = path.rfind("objects/", 0) == 0;
    bool cut = false;
    {
      std::lock_guard lock(mutex_);
      if (object) {
        ranges_[path].push_back(request.get_header_value("Range"));
        if (mode_ == Mode::kFailAfterObjects && objects_left_-- <= 0) {
          response.status = 503;
          return;
        }
        cut = mode_ == Mode::kCutFirstResponseHalfway && ranges_[path].size() == 1;
      }
    }
    auto contents = std::make_shared<std::string>(FerryctlTest::ReadFile(file));
    response.set_content_provider(
        contents->size(), "application/octet-stream",
        [this, contents, path, object, cut](size_t offset, size_t length, httplib::DataSink& sink) {
          // On a cut, half of what was asked for goes out, then the connection drops.
          const size_t send = cut ? length / 2 : length;
          sink.write(contents->data() + offset, send);
          std::lock_guard lock(mutex_);
          if (object) bytes_sent_[path] += send;
          return !cut;
        });
  }

  fs::path root_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  Mode mode_ = Mode::kHealthy;
  int objects_left_ = 0;
  std::map<std::string, uint64_t> bytes_sent_;
  std::map<std::string, std::vector<std::string>> ranges_;
};

uint64_t ObjectSize(const std::string& path) {
  return fs::file_size(FerryctlTest::Repository() / path);
}

TEST_F(FerryctlTest, TransfersCutMidwayResumeWithRangeAndNeverRefetch) {
  const fs::path store = StoreWithFirstVersion();
  FlakyRepositoryServer server(Repository());
  server.SetMode(FlakyRepositoryServer::Mode::kCutFirstResponseHalfway);
  ProcessResult pulled = Pull(server.url(), "1.1.0", store);
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_EQ(ReadFile(store / "gpt-a" / "current" / "model.safetensors"),
            ReadFile(Input("1.1.0") / "model.safetensors"));

  const auto ranges = server.RangesPerObject();
  ASSERT_FALSE(ranges.empty());
  for (const auto& [path, sent] : server.BytesSentPerObject()) {
    EXPECT_EQ(sent, ObjectSize(path)) << path << ": every byte exactly once";
    const auto& requests = ranges.at(path);
    ASSERT_GE(requests.size(), 2u) << path;
    // The retry asks for exactly what the cut left out.
    EXPECT_EQ(requests[1], "bytes=" + std::to_string(ObjectSize(path) / 2) + "-") << path;
  }
}

TEST_F(FerryctlTest, ARunThatFailedMidwayIsResumedWithoutRefetchingWhatArrived) {
  const fs::path store = StoreWithFirstVersion();
  FlakyRepositoryServer server(Repository());
  server.SetMode(FlakyRepositoryServer::Mode::kFailAfterObjects, 1);
  ProcessResult failed = Pull(server.url(), "1.1.0", store, {"--retries", "2"});
  ASSERT_EQ(failed.exit_code, 1) << "the server fails for good after one object";
  EXPECT_NE(failed.err.find("503"), std::string::npos) << failed.err;
  EXPECT_EQ(CurrentVersion(store), "1.0.0");
  const auto after_first_run = server.BytesSentPerObject();
  ASSERT_EQ(after_first_run.size(), 1u);

  server.SetMode(FlakyRepositoryServer::Mode::kHealthy);
  ProcessResult resumed = Pull(server.url(), "1.1.0", store);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(CurrentVersion(store), "1.1.0");
  for (const auto& [path, sent] : server.BytesSentPerObject()) {
    EXPECT_EQ(sent, ObjectSize(path)) << path << " was fetched more than once";
  }
  const std::string first_object = after_first_run.begin()->first;
  EXPECT_EQ(server.RangesPerObject().at(first_object).size(), 1u)
      << "an object verified in the first run is not requested again";
}

}  // namespace
}  // namespace ferry::testing
