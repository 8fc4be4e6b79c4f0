// RepositoryServer as any HTTP client sees it.
#include "lib/fetch/server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>

#include "lib/common/file.h"
#include "tests/lib/fetch/captured_log.h"
#include "tests/lib/fetch/test_data.h"
#include "tests/support/temp_dir.h"

namespace ferry::fetch {
namespace {

using testing::CapturedLog;
using testing::RandomBytes;

class RepositoryServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "repo/objects");
    ASSERT_TRUE(WriteFileAtomically(dir_ / "repo/objects/blob", data_).ok());
    ASSERT_TRUE(WriteFileAtomically(dir_ / "repo/empty", "").ok());
    ASSERT_TRUE(WriteFileAtomically(dir_ / "secret", "secret").ok());
    std::filesystem::create_symlink(dir_ / "secret", dir_ / "repo/escape");
    std::filesystem::create_symlink(dir_.path(), dir_ / "repo/up");
    Result<std::unique_ptr<RepositoryServer>> server =
        RepositoryServer::Start(dir_ / "repo", "127.0.0.1", 0, log_.logger());
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }

  httplib::Result Get(const std::string& path, const std::string& range = "") {
    httplib::Headers headers;
    if (!range.empty()) headers.emplace("Range", range);
    return client_->Get(path, headers);
  }

  ferry::testing::TempDir dir_;
  const std::string data_ = RandomBytes(1000);
  CapturedLog log_;
  std::unique_ptr<RepositoryServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(RepositoryServerTest, ServesWholeFilesWithTheirLength) {
  httplib::Result result = Get("/objects/blob");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, data_);
  EXPECT_EQ(result->get_header_value("Content-Length"), "1000");
  EXPECT_EQ(result->get_header_value("Accept-Ranges"), "bytes");

  result = Get("/empty");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->get_header_value("Content-Length"), "0");
}

TEST_F(RepositoryServerTest, AnswersSingleRanges) {
  struct Case {
    std::string range;
    size_t first, last;
  };
  for (const Case& c :
       {Case{"bytes=10-19", 10, 19}, Case{"bytes=990-", 990, 999}, Case{"bytes=995-5000", 995, 999},
        Case{"bytes=-5", 995, 999}, Case{"bytes=-5000", 0, 999}, Case{"bytes=0-0", 0, 0}}) {
    httplib::Result result = Get("/objects/blob", c.range);
    ASSERT_TRUE(result) << c.range;
    EXPECT_EQ(result->status, 206) << c.range;
    EXPECT_EQ(result->get_header_value("Content-Range"),
              "bytes " + std::to_string(c.first) + "-" + std::to_string(c.last) + "/1000")
        << c.range;
    EXPECT_EQ(result->get_header_value("Content-Length"), std::to_string(c.last - c.first + 1));
    EXPECT_EQ(result->body, data_.substr(c.first, c.last - c.first + 1)) << c.range;
  }
}

TEST_F(RepositoryServerTest, RangesPastTheEndAreUnsatisfiable) {
  for (const std::string range : {"bytes=1000-", "bytes=5000-6000", "bytes=-0"}) {
    httplib::Result result = Get("/objects/blob", range);
    ASSERT_TRUE(result) << range;
    EXPECT_EQ(result->status, 416) << range;
    EXPECT_EQ(result->get_header_value("Content-Range"), "bytes */1000") << range;
    EXPECT_EQ(result->get_header_value("Content-Length"), "0") << range;
  }
  httplib::Result empty = Get("/empty", "bytes=0-");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 416);
}

TEST_F(RepositoryServerTest, SeveralRangesGetTheWholeFile) {
  httplib::Result result = Get("/objects/blob", "bytes=0-1,5-6");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, data_);
}

TEST_F(RepositoryServerTest, HeadGivesTheLengthWithoutTheBody) {
  httplib::Result result = client_->Head("/objects/blob");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->get_header_value("Content-Length"), "1000");
  EXPECT_TRUE(result->body.empty());
}

TEST_F(RepositoryServerTest, MissingFilesAndFoldersAreNotFoundAndNeverListed) {
  for (const std::string path : {"/nope", "/objects", "/objects/"}) {
    httplib::Result result = Get(path);
    ASSERT_TRUE(result) << path;
    EXPECT_TRUE(result->status == 404 || result->status == 403) << path << ": " << result->status;
    EXPECT_EQ(result->body.find("blob"), std::string::npos) << path;
  }
  httplib::Result root = Get("/");
  ASSERT_TRUE(root);
  EXPECT_NE(root->status, 200);
  EXPECT_EQ(root->body.find("objects"), std::string::npos);
}

TEST_F(RepositoryServerTest, PathsLeavingTheRootAreForbidden) {
  for (const std::string path :
       {"/../secret", "/objects/../../secret", "/escape", "/up/secret", "/%2e%2e/secret"}) {
    httplib::Result result = Get(path);
    ASSERT_TRUE(result) << path;
    EXPECT_EQ(result->status, 403) << path;
    EXPECT_EQ(result->body.find("secret"), std::string::npos) << path;
  }
}

TEST_F(RepositoryServerTest, LogsEachRequest) {
  ASSERT_TRUE(Get("/objects/blob", "bytes=10-"));
  ASSERT_TRUE(Get("/nope"));
  client_.reset();  // its keep-alive connection would hold Stop
  server_->Stop();
  // httplib logs after the response has gone out, so the client may already
  // have sent its next request: the order of the two lines is not fixed.
  std::vector<std::string> lines = log_.lines();
  ASSERT_EQ(lines.size(), 2u);
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines[0], "127.0.0.1 GET /nope 404 10");
  EXPECT_EQ(lines[1], "127.0.0.1 GET /objects/blob 206 990 range bytes=10-");
}

TEST(RepositoryServerStartTest, RefusesAMissingRootAndATakenPort) {
  ferry::testing::TempDir dir;
  EXPECT_EQ(RepositoryServer::Start(dir / "missing", "127.0.0.1", 0, nullptr).error().code,
            ErrorCode::kNotFound);
  Result<std::unique_ptr<RepositoryServer>> first =
      RepositoryServer::Start(dir.path(), "127.0.0.1", 0, nullptr);
  ASSERT_TRUE(first.ok());
  Result<std::unique_ptr<RepositoryServer>> second =
      RepositoryServer::Start(dir.path(), "127.0.0.1", (*first)->port(), nullptr);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find(std::to_string((*first)->port())), std::string::npos);
}

}  // namespace
}  // namespace ferry::fetch
