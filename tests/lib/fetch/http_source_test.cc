// HttpSource against the real RepositoryServer: what `ferryctl pull` from a
// `ferryctl serve` does. The server's access log shows what crossed the wire.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "lib/common/file.h"
#include "lib/fetch/server.h"
#include "lib/fetch/source.h"
#include "tests/lib/fetch/captured_log.h"
#include "tests/lib/fetch/test_data.h"
#include "tests/support/temp_dir.h"

namespace ferry::fetch {
namespace {

using testing::CapturedLog;
using testing::RandomBytes;

class HttpSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "repo/objects");
    ASSERT_TRUE(WriteFileAtomically(dir_ / "repo/manifest.json", "{\"version\": 1}").ok());
    ASSERT_TRUE(WriteFileAtomically(dir_ / "repo/objects/blob", data_).ok());
    ASSERT_TRUE(WriteFileAtomically(dir_ / "secret", "secret").ok());
    std::filesystem::create_symlink(dir_ / "secret", dir_ / "repo/objects/escape");
    Result<std::unique_ptr<RepositoryServer>> server =
        RepositoryServer::Start(dir_ / "repo", "127.0.0.1", 0, log_.logger());
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
    source_ = Open({});
  }

  std::unique_ptr<Source> Open(const FetchOptions& options) {
    Result<std::unique_ptr<Source>> source =
        OpenSource("http://127.0.0.1:" + std::to_string(server_->port()) + "/", options);
    EXPECT_TRUE(source.ok()) << source.error().message;
    return source.ok() ? std::move(*source) : nullptr;
  }

  // The access log once every request has ended. The source goes first: its
  // idle keep-alive connections would hold the server's Stop.
  std::vector<std::string> AccessLog() {
    source_.reset();
    server_->Stop();
    return log_.lines();
  }

  ferry::testing::TempDir dir_;
  const std::string data_ = RandomBytes(3 << 20);
  CapturedLog log_;
  std::unique_ptr<RepositoryServer> server_;
  std::unique_ptr<Source> source_;
};

size_t CountContaining(const std::vector<std::string>& lines, const std::string& text) {
  return std::count_if(lines.begin(), lines.end(), [&](const std::string& line) {
    return line.find(text) != std::string::npos;
  });
}

TEST_F(HttpSourceTest, FetchesBitExactlyAndReadsSmallFiles) {
  ASSERT_TRUE(source_->FetchToFile("objects/blob", dir_ / "out", data_.size(), nullptr).ok());
  EXPECT_EQ(*ReadFileToString(dir_ / "out"), data_);
  ASSERT_TRUE(source_->FetchToFile("objects/blob", dir_ / "unsized", {}, nullptr).ok());
  EXPECT_EQ(*ReadFileToString(dir_ / "unsized"), data_);

  Result<std::string> manifest = source_->ReadSmall("manifest.json");
  ASSERT_TRUE(manifest.ok()) << manifest.error().message;
  EXPECT_EQ(*manifest, "{\"version\": 1}");
  EXPECT_EQ(source_->ReadSmall("objects/blob", 1024).error().code, ErrorCode::kInvalidArgument);
}

TEST_F(HttpSourceTest, ServesConcurrentTransfersThroughOneSource) {
  constexpr int kFiles = 8;
  for (int i = 0; i < kFiles; ++i) {
    ASSERT_TRUE(
        WriteFileAtomically(dir_ / "repo/objects" / std::to_string(i), RandomBytes(256 << 10, i))
            .ok());
  }
  std::vector<std::thread> threads;
  std::vector<Status> results(kFiles);
  for (int i = 0; i < kFiles; ++i) {
    threads.emplace_back([&, i] {
      results[i] = source_->FetchToFile("objects/" + std::to_string(i), dir_ / std::to_string(i),
                                        256 << 10, nullptr);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int i = 0; i < kFiles; ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].error().message;
    EXPECT_EQ(*ReadFileToString(dir_ / std::to_string(i)), RandomBytes(256 << 10, i));
  }
}

TEST_F(HttpSourceTest, MissingFilesAreNotFoundAndNotRetried) {
  Result<std::string> missing = source_->ReadSmall("nope.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("/nope.json"), std::string::npos);
  EXPECT_EQ(source_->FetchToFile("objects/nope", dir_ / "out", {}, nullptr).error().code,
            ErrorCode::kNotFound);
  const std::vector<std::string> log = AccessLog();
  EXPECT_EQ(CountContaining(log, "GET /nope.json 404"), 1u);
  EXPECT_EQ(CountContaining(log, "GET /objects/nope 404"), 1u);
}

TEST_F(HttpSourceTest, ResumesAnEarlierRunsPartialFileWithARange) {
  // The prefix is deliberately not the server's bytes: if it survives, none of
  // it was fetched again.
  const size_t kept = 1 << 20;
  ASSERT_TRUE(WriteFileAtomically(dir_ / "out", std::string(kept, 'x')).ok());
  ASSERT_TRUE(source_->FetchToFile("objects/blob", dir_ / "out", data_.size(), nullptr).ok());
  EXPECT_EQ(*ReadFileToString(dir_ / "out"), std::string(kept, 'x') + data_.substr(kept));

  const std::vector<std::string> log = AccessLog();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("GET /objects/blob 206 " + std::to_string(data_.size() - kept) +
                        " range bytes=" + std::to_string(kept) + "-"),
            std::string::npos)
      << log[0];
}

TEST_F(HttpSourceTest, AFileAlreadyCompleteIsAcceptedFromA416) {
  ASSERT_TRUE(WriteFileAtomically(dir_ / "out", data_).ok());
  ASSERT_TRUE(source_->FetchToFile("objects/blob", dir_ / "out", data_.size(), nullptr).ok());
  EXPECT_EQ(*ReadFileToString(dir_ / "out"), data_);
  EXPECT_EQ(CountContaining(AccessLog(), "GET /objects/blob 416"), 1u);
}

TEST_F(HttpSourceTest, ALongerAnswerThanExpectedIsCorrupt) {
  Status status = source_->FetchToFile("objects/blob", dir_ / "out", data_.size() - 1, nullptr);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(status.error().message.find(std::to_string(data_.size())), std::string::npos);
}

TEST_F(HttpSourceTest, RefusesPathsLeavingTheRepository) {
  Status status = source_->FetchToFile("../secret", dir_ / "out", {}, nullptr);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
  // The server refuses a symlink out of its root.
  Result<std::string> escaped = source_->ReadSmall("objects/escape");
  ASSERT_FALSE(escaped.ok());
  EXPECT_NE(escaped.error().message.find("403"), std::string::npos) << escaped.error().message;

  const std::vector<std::string> log = AccessLog();
  ASSERT_EQ(log.size(), 1u);  // "../secret" never left the client
  EXPECT_NE(log[0].find("GET /objects/escape 403"), std::string::npos) << log[0];
}

TEST_F(HttpSourceTest, BandwidthCapHolds) {
  FetchOptions capped;
  capped.bandwidth_limit = 1 << 20;
  source_ = Open(capped);
  auto log = std::make_shared<spdlog::logger>("quiet");
  Progress progress("pull", data_.size(), log);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(source_->FetchToFile("objects/blob", dir_ / "out", data_.size(), &progress).ok());
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  // 3 MiB at 1 MiB/s, less the bucket's first burst. A lower bound only.
  EXPECT_GE(elapsed.count(), 2.5);
  EXPECT_EQ(progress.done(), data_.size());
  EXPECT_EQ(*ReadFileToString(dir_ / "out"), data_);
}

}  // namespace
}  // namespace ferry::fetch
