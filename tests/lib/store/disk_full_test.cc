// A full disk, on a 2 MiB tmpfs: staging fails with an error that says so, and
// the version that was current stays current and intact.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lib/store/store.h"
#include "tests/lib/store/store_fixture.h"
#include "tests/support/temp_dir.h"

namespace ferry::store {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::TestFile;

// A small tmpfs mounted for one test and unmounted after it.
class SmallDisk {
 public:
  explicit SmallDisk(const fs::path& at) : at_(at) {
    fs::create_directories(at_);
    mounted_ = ::mount("tmpfs", at_.c_str(), "tmpfs", 0, "size=2m") == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(at_.c_str(), MNT_DETACH);
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  fs::path at_;
  bool mounted_ = false;
  std::string error_;
};

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!disk_.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (" << disk_.error() << ")";
    Result<Store> opened = testing::OpenWithFirstVersion(dir_ / "disk", v1_);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_.emplace(std::move(*opened));
  }

  void ExpectOldVersionCurrent() {
    Result<ModelInfo> info = store_->Describe("coder");
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->current, "1.0.0");
    EXPECT_TRUE(store_->Verify("coder").ok());
  }

  const std::vector<TestFile> v1_ = {{"weights.bin", testing::RandomBytes(1, 300 * 1024)}};
  ferry::testing::TempDir dir_;
  SmallDisk disk_{dir_ / "disk"};
  std::optional<Store> store_;
};

TEST_F(DiskFullTest, AFileLargerThanTheFreeSpaceFailsToStage) {
  Result<Staging> staging = store_->BeginStaging("coder", "2.0.0");
  ASSERT_TRUE(staging.ok());
  Status written =
      testing::WriteStaged(*staging, {"weights.bin", testing::RandomBytes(2, 4 << 20)});
  ASSERT_FALSE(written.ok());
  EXPECT_THAT(written.error().message, HasSubstr("No space left on device"));
  EXPECT_THAT(written.error().message, HasSubstr("free space"));
  staging->Abandon();
  ExpectOldVersionCurrent();
}

TEST_F(DiskFullTest, ActivateFailsCleanlyWhenTheStoreCannotWriteItsOwnFiles) {
  Result<Staging> staging = store_->BeginStaging("coder", "2.0.0");
  ASSERT_TRUE(staging.ok());
  // Fill the disk to the last byte with a file that is itself complete.
  Result<fs::path> path = staging->PathFor("weights.bin");
  ASSERT_TRUE(path.ok());
  std::string content;
  {
    Result<UniqueFd> fd = CreateForWrite(*path);
    ASSERT_TRUE(fd.ok());
    const std::string block = testing::RandomBytes(3, 4096);
    while (::write(fd->get(), block.data(), block.size()) > 0) content += block;
    ASSERT_EQ(::ftruncate(fd->get(), static_cast<off_t>(content.size())), 0);
  }
  const TestFile full{"weights.bin", content};
  Status status =
      store_->Activate(std::move(*staging), std::vector<FileEntry>{full.entry()}, "m", "s");
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error().message, HasSubstr("No space left on device"));
  EXPECT_THAT(status.error().message, HasSubstr("activate coder 2.0.0"));
  ExpectOldVersionCurrent();

  // Once space is freed the store carries on, and cleans up what was left.
  {
    Result<Staging> retry = store_->BeginStaging("coder", "2.0.0");
    ASSERT_TRUE(retry.ok()) << retry.error().message;
    retry->Abandon();
  }
  const std::vector<TestFile> v2 = {{"weights.bin", testing::RandomBytes(4, 1000)}};
  Result<Staging> small = store_->BeginStaging("coder", "2.0.0");
  ASSERT_TRUE(small.ok()) << small.error().message;
  ASSERT_TRUE(testing::WriteAllStaged(*small, v2).ok());
  ASSERT_TRUE(store_->Activate(std::move(*small), testing::EntriesOf(v2), "m", "s").ok());
  EXPECT_TRUE(store_->Verify("coder").ok());
}

}  // namespace
}  // namespace ferry::store
