// Staging: what Activate refuses (leaving the store as it was), and how a
// staging folder left by an interrupted run is resumed.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "lib/store/store.h"
#include "tests/lib/store/store_fixture.h"
#include "tests/support/temp_dir.h"

namespace ferry::store {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::TestFile;

class StagingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<Store> opened = testing::OpenWithFirstVersion(dir_ / "store", v1_);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_.emplace(std::move(*opened));
  }

  Staging Begin(const std::string& version = "2.0.0") {
    Result<Staging> staging = store_->BeginStaging("coder", version);
    EXPECT_TRUE(staging.ok()) << staging.error().message;
    return std::move(*staging);
  }

  // The store is as SetUp left it: 1.0.0 current and intact, nothing else.
  void ExpectUnchanged() {
    Result<ModelInfo> info = store_->Describe("coder");
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->current, "1.0.0");
    EXPECT_EQ(info->versions.size(), 1u);
    EXPECT_TRUE(store_->Verify("coder").ok());
    EXPECT_FALSE(fs::exists(dir_ / "store/coder/journal"));
  }

  const std::vector<TestFile> v1_ = {{"a.bin", testing::RandomBytes(1, 5000)},
                                     {"dir/b.bin", testing::RandomBytes(2, 9000)}};
  const std::vector<TestFile> v2_ = {{"a.bin", testing::RandomBytes(3, 6000)},
                                     {"dir/b.bin", testing::RandomBytes(4, 1000)}};
  ferry::testing::TempDir dir_;
  std::optional<Store> store_;
};

TEST_F(StagingTest, PathsThatLeaveTheVersionAreRefused) {
  Staging staging = Begin();
  for (const char* bad : {"../escape", "/etc/passwd", "dir/../../x", "a//b"}) {
    Result<fs::path> path = staging.PathFor(bad);
    ASSERT_FALSE(path.ok()) << bad;
    EXPECT_EQ(path.error().code, ErrorCode::kInvalidArgument);
  }
  ASSERT_TRUE(testing::WriteAllStaged(staging, v2_).ok());
  std::vector<FileEntry> entries = testing::EntriesOf(v2_);
  entries.push_back({"../../escape", 1, {}});
  Status status = store_->Activate(std::move(staging), entries, "m", "s");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(status.error().message, HasSubstr("'..' component"));
  ExpectUnchanged();
  EXPECT_FALSE(fs::exists(dir_ / "escape"));

  entries.back().path = (dir_ / "absolute").string();
  status = store_->Activate(Begin(), entries, "m", "s");
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error().message, HasSubstr("absolute"));
  ExpectUnchanged();
}

TEST_F(StagingTest, ASymlinkInStagingIsNeverFollowed) {
  std::ofstream(dir_ / "outside.bin") << "secret";
  Staging staging = Begin();
  ASSERT_TRUE(testing::WriteStaged(staging, v2_[0]).ok());
  // A planted link to a file outside, under a name the manifest lists...
  fs::create_directories(staging.dir() / "dir");
  fs::create_symlink(dir_ / "outside.bin", staging.dir() / "dir/b.bin");
  Result<fs::path> through = staging.PathFor("dir/b.bin");
  ASSERT_FALSE(through.ok());
  EXPECT_THAT(through.error().message, HasSubstr("is a symlink"));
  Status status = store_->Activate(
      std::move(staging), std::vector<FileEntry>{v2_[0].entry(), {"dir/b.bin", 6, {}}}, "m", "s");
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error().message, HasSubstr("dir/b.bin is a symlink"));
  ExpectUnchanged();

  // ...and a linked folder, which would carry writes outside.
  fs::create_directory(dir_ / "outside");
  Staging again = Begin();
  fs::remove(again.dir() / "dir/b.bin");
  fs::remove(again.dir() / "dir");
  fs::create_directory_symlink(dir_ / "outside", again.dir() / "dir");
  EXPECT_FALSE(again.PathFor("dir/b.bin").ok());
  EXPECT_TRUE(fs::is_empty(dir_ / "outside"));
}

TEST_F(StagingTest, AWrongDigestIsRefusedAndOnlyThatFileIsDropped) {
  Staging staging = Begin();
  ASSERT_TRUE(testing::WriteAllStaged(staging, v2_).ok());
  std::vector<FileEntry> entries = testing::EntriesOf(v2_);
  entries[1].sha256[0] ^= 1;
  Status status = store_->Activate(std::move(staging), entries, "m", "s");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(status.error().message, HasSubstr("file dir/b.bin has SHA-256"));
  EXPECT_THAT(status.error().message, HasSubstr("fetch it again"));
  ExpectUnchanged();

  // The good file stays staged (kept once hashed again); the bad one must be
  // fetched again.
  Staging resumed = Begin();
  EXPECT_FALSE(fs::exists(resumed.dir() / "dir/b.bin"));
  Result<size_t> kept = resumed.ResumeFiles(testing::EntriesOf(v2_));
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, 1u);
  EXPECT_TRUE(resumed.IsVerified(v2_[0].entry()));
}

TEST_F(StagingTest, AWrongSizeIsRefused) {
  Staging staging = Begin();
  ASSERT_TRUE(testing::WriteAllStaged(staging, v2_).ok());
  std::vector<FileEntry> entries = testing::EntriesOf(v2_);
  entries[0].size += 1;
  Status status = store_->Activate(std::move(staging), entries, "m", "s");
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error().message, HasSubstr("file a.bin has 6000 bytes, expected 6001"));
  ExpectUnchanged();
}

TEST_F(StagingTest, MissingAndExtraFilesAreRefused) {
  Staging staging = Begin();
  ASSERT_TRUE(testing::WriteStaged(staging, v2_[0]).ok());
  Status missing = store_->Activate(std::move(staging), testing::EntriesOf(v2_), "m", "s");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, HasSubstr("file dir/b.bin is missing"));

  Staging extra = Begin();
  ASSERT_TRUE(testing::WriteAllStaged(extra, v2_).ok());
  ASSERT_TRUE(testing::WriteStaged(extra, {"stray.tmp", "x"}).ok());
  Status refused = store_->Activate(std::move(extra), testing::EntriesOf(v2_), "m", "s");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message,
              HasSubstr("file stray.tmp is not in the version's file list"));
  ExpectUnchanged();
}

TEST_F(StagingTest, AResumedStagingTrustsNothingUntilItIsHashedAgain) {
  {
    Staging crashed = Begin();
    ASSERT_TRUE(testing::WriteAllStaged(crashed, v2_).ok());
    ASSERT_TRUE(crashed.MarkVerified(v2_[0].entry()).ok());
    ASSERT_TRUE(crashed.MarkVerified(v2_[1].entry()).ok());
    // Destroyed without Activate, as if the process had died here.
  }
  Staging resumed = Begin();
  // What another run verified counts for nothing in this one.
  EXPECT_FALSE(resumed.IsVerified(v2_[0].entry()));
  EXPECT_FALSE(resumed.IsVerified(v2_[1].entry()));
  Result<size_t> kept = resumed.ResumeFiles(testing::EntriesOf(v2_));
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  EXPECT_EQ(*kept, 2u);
  EXPECT_TRUE(resumed.IsVerified(v2_[0].entry()));
  // Trust is for these exact bytes: another digest is not covered.
  EXPECT_FALSE(resumed.IsVerified(v1_[0].entry()));

  // A changed mtime or size withdraws the trust.
  const fs::path a = resumed.dir() / "a.bin";
  fs::last_write_time(a, fs::last_write_time(a) + std::chrono::seconds(5));
  EXPECT_FALSE(resumed.IsVerified(v2_[0].entry()));
  fs::resize_file(resumed.dir() / "dir/b.bin", 999);
  EXPECT_FALSE(resumed.IsVerified(v2_[1].entry()));

  // Activate hashes what is no longer trusted and catches the damage.
  Status status = store_->Activate(std::move(resumed), testing::EntriesOf(v2_), "m", "s");
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error().message, HasSubstr("dir/b.bin has 999 bytes"));
  ExpectUnchanged();
}

// Bytes changed while no process watched, with size, inode and mtime kept
// (what the persisted record of older versions trusted): the resumed run
// finds it by hashing, deletes the file, and never activates it.
TEST_F(StagingTest, AResumedFileWhoseBytesChangedBehindItsMtimeIsRefetched) {
  {
    Staging crashed = Begin();
    ASSERT_TRUE(testing::WriteAllStaged(crashed, v2_).ok());
    ASSERT_TRUE(crashed.MarkVerified(v2_[0].entry()).ok());
  }
  const fs::path a = dir_ / "store/coder/staging/2.0.0/a.bin";
  struct stat before {};
  ASSERT_EQ(::stat(a.c_str(), &before), 0);
  {
    std::fstream file(a, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(100);
    file.put(static_cast<char>(v2_[0].content[100] ^ 0x01));
  }
  const struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, a.c_str(), times, 0), 0);

  Staging resumed = Begin();
  Result<size_t> kept = resumed.ResumeFiles(testing::EntriesOf(v2_));
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, 1u);  // dir/b.bin only
  EXPECT_FALSE(fs::exists(a));
  Status status = store_->Activate(std::move(resumed), testing::EntriesOf(v2_), "m", "s");
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error().message, HasSubstr("file a.bin is missing"));
  ExpectUnchanged();
}

TEST_F(StagingTest, MarkVerifiedChecksTheSize) {
  Staging staging = Begin();
  ASSERT_TRUE(testing::WriteStaged(staging, v2_[0]).ok());
  FileEntry wrong = v2_[0].entry();
  wrong.size = 1;
  EXPECT_FALSE(staging.MarkVerified(wrong).ok());
  EXPECT_FALSE(staging.MarkVerified(v2_[1].entry()).ok());  // not written yet
}

TEST_F(StagingTest, LinkingNeedsTheFileInACompleteVersion) {
  Staging staging = Begin();
  EXPECT_EQ(staging.LinkFromVersion("1.0.0", {"nope.bin", 1, {}}).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(staging.LinkFromVersion("0.9.0", v1_[0].entry()).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(staging.LinkFromVersion("1.0.0", {"../a.bin", 1, {}}).error().code,
            ErrorCode::kInvalidArgument);
}

// Bit rot in a held version must not travel into a new one: the linked copy
// is hashed, found damaged, unlinked again, and reported as kCorrupt so the
// caller fetches the file instead.
TEST_F(StagingTest, ADamagedHeldCopyIsNotLinked) {
  const fs::path held = dir_ / "store/coder/versions/1.0.0/a.bin";
  {
    std::fstream file(held, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(7);
    file.put(static_cast<char>(v1_[0].content[7] ^ 0x40));
  }
  Staging staging = Begin();
  std::vector<HeldFile> links = {{"1.0.0", "a.bin", v1_[0].entry()},
                                 {"1.0.0", "dir/b.bin", v1_[1].entry()}};
  std::vector<Status> linked = staging.LinkFromVersions(links);
  ASSERT_EQ(linked.size(), 2u);
  ASSERT_FALSE(linked[0].ok());
  EXPECT_EQ(linked[0].error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(linked[0].error().message,
              HasSubstr("the copy of a.bin in version 1.0.0 has SHA-256"));
  EXPECT_FALSE(fs::exists(staging.dir() / "a.bin"));
  EXPECT_FALSE(staging.IsVerified(v1_[0].entry()));
  EXPECT_TRUE(linked[1].ok()) << linked[1].error().message;
  EXPECT_TRUE(staging.IsVerified(v1_[1].entry()));
}

TEST_F(StagingTest, AbandonRemovesTheStagingFolder) {
  Staging staging = Begin();
  ASSERT_TRUE(testing::WriteAllStaged(staging, v2_).ok());
  ASSERT_TRUE(staging.MarkVerified(v2_[0].entry()).ok());
  ASSERT_TRUE(staging.CacheDir().ok());
  const fs::path dir = staging.dir();
  staging.Abandon();
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_FALSE(fs::exists(dir_ / "store/coder/staging/.2.0.0.cache"));
  EXPECT_FALSE(store_->Activate(std::move(staging), testing::EntriesOf(v2_), "m", "s").ok());
  ExpectUnchanged();
}

}  // namespace
}  // namespace ferry::store
