#include <gtest/gtest.h>

#include "lib/common/file.h"
#include "lib/fetch/source.h"
#include "tests/lib/fetch/test_data.h"
#include "tests/support/temp_dir.h"

namespace ferry::fetch {
namespace {

using testing::RandomBytes;

class FolderSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "repo/objects/ab");
    ASSERT_TRUE(WriteFileAtomically(dir_ / "repo/manifest.json", "{\"version\": 1}").ok());
    ASSERT_TRUE(WriteFileAtomically(dir_ / "repo/objects/ab/abcd", data_).ok());
    Result<std::unique_ptr<Source>> source = OpenSource((dir_ / "repo").string());
    ASSERT_TRUE(source.ok()) << source.error().message;
    source_ = std::move(*source);
  }

  ferry::testing::TempDir dir_;
  const std::string data_ = RandomBytes(3 << 20);
  std::unique_ptr<Source> source_;
};

TEST_F(FolderSourceTest, FetchesBitExactly) {
  ASSERT_TRUE(source_->FetchToFile("objects/ab/abcd", dir_ / "out", data_.size(), nullptr).ok());
  EXPECT_EQ(*ReadFileToString(dir_ / "out"), data_);
}

TEST_F(FolderSourceTest, ReadsSmallFilesAndReportsMissingOnes) {
  Result<std::string> manifest = source_->ReadSmall("manifest.json");
  ASSERT_TRUE(manifest.ok()) << manifest.error().message;
  EXPECT_EQ(*manifest, "{\"version\": 1}");

  Result<std::string> missing = source_->ReadSmall("nope.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(source_->FetchToFile("objects/nope", dir_ / "out", {}, nullptr).error().code,
            ErrorCode::kNotFound);

  Result<std::string> large = source_->ReadSmall("objects/ab/abcd", 1024);
  ASSERT_FALSE(large.ok());
  EXPECT_EQ(large.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(large.error().message.find("1024 bytes"), std::string::npos);
}

TEST_F(FolderSourceTest, ResumesAfterWhatIsAlreadyThere) {
  // The prefix left by "an earlier run" is deliberately not the source's bytes:
  // if it survives, nothing before the resume point was copied again.
  const size_t kept = 1 << 20;
  ASSERT_TRUE(WriteFileAtomically(dir_ / "out", std::string(kept, 'x')).ok());
  ASSERT_TRUE(source_->FetchToFile("objects/ab/abcd", dir_ / "out", data_.size(), nullptr).ok());
  EXPECT_EQ(*ReadFileToString(dir_ / "out"), std::string(kept, 'x') + data_.substr(kept));
}

TEST_F(FolderSourceTest, RestartsALeftoverLongerThanTheFile) {
  ASSERT_TRUE(WriteFileAtomically(dir_ / "out", data_ + "trailing").ok());
  ASSERT_TRUE(source_->FetchToFile("objects/ab/abcd", dir_ / "out", data_.size(), nullptr).ok());
  EXPECT_EQ(*ReadFileToString(dir_ / "out"), data_);
}

TEST_F(FolderSourceTest, ASizeOtherThanExpectedIsCorrupt) {
  Status status = source_->FetchToFile("objects/ab/abcd", dir_ / "out", data_.size() - 1, nullptr);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kCorrupt);
}

TEST_F(FolderSourceTest, RefusesPathsLeavingTheRoot) {
  ASSERT_TRUE(WriteFileAtomically(dir_ / "secret", "secret").ok());
  std::filesystem::create_symlink(dir_ / "secret", dir_ / "repo/link");
  for (const std::string& bad :
       {std::string("../secret"), (dir_ / "secret").string(), std::string("objects\\ab\\abcd"),
        std::string("objects//ab/abcd"), std::string("link")}) {
    Result<std::string> read = source_->ReadSmall(bad);
    ASSERT_FALSE(read.ok()) << bad;
    EXPECT_EQ(read.error().code, ErrorCode::kInvalidArgument) << bad;
    Status fetched = source_->FetchToFile(bad, dir_ / "out", {}, nullptr);
    ASSERT_FALSE(fetched.ok()) << bad;
    EXPECT_EQ(fetched.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out"));
}

TEST_F(FolderSourceTest, ReportsBytesToProgress) {
  auto log = std::make_shared<spdlog::logger>("quiet");  // no sinks
  Progress progress("pull", data_.size(), log);
  ASSERT_TRUE(WriteFileAtomically(dir_ / "out", data_.substr(0, 1000)).ok());
  ASSERT_TRUE(source_->FetchToFile("objects/ab/abcd", dir_ / "out", data_.size(), &progress).ok());
  EXPECT_EQ(progress.done(), data_.size());
}

TEST(OpenSourceTest, ChoosesBySchemeAndRefusesTheUnknown) {
  ferry::testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir / "manifest.json", "m").ok());
  Result<std::unique_ptr<Source>> by_url = OpenSource("file://" + dir.path().string());
  ASSERT_TRUE(by_url.ok()) << by_url.error().message;
  EXPECT_EQ(*(*by_url)->ReadSmall("manifest.json"), "m");

  EXPECT_EQ(OpenSource((dir / "missing").string()).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(OpenSource("file://relative/path").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(OpenSource("s3://bucket/repo").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(OpenSource("http://").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(OpenSource("http://host/repo?x=1").error().code, ErrorCode::kInvalidArgument);
  FetchOptions missing_bundle;
  missing_bundle.ca_bundle = dir / "missing.pem";
  EXPECT_EQ(OpenSource("https://host/repo", missing_bundle).error().code, ErrorCode::kNotFound);
  Result<std::unique_ptr<Source>> http = OpenSource("http://127.0.0.1:8080/repo/");
  ASSERT_TRUE(http.ok());
  EXPECT_EQ((*http)->Describe(), "http://127.0.0.1:8080/repo");
}

}  // namespace
}  // namespace ferry::fetch
