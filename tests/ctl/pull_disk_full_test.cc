// A pull onto a volume that fills up fails with a message saying so, and the
// version in service stays current and whole. The volume is a real tmpfs,
// shrunk after the first version is in place.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include "tests/ctl/ferryctl_fixture.h"

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;

// A tmpfs mounted for one test and unmounted after it.
class SmallVolume {
 public:
  explicit SmallVolume(const fs::path& at) : path_(at) {
    fs::create_directories(path_);
    mounted_ = ::mount("tmpfs", path_.c_str(), "tmpfs", 0, "size=64m") == 0;
  }
  ~SmallVolume() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  SmallVolume(const SmallVolume&) = delete;
  SmallVolume& operator=(const SmallVolume&) = delete;
  bool mounted() const { return mounted_; }
  bool Resize(const std::string& size) {
    return ::mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT, ("size=" + size).c_str()) == 0;
  }

 private:
  fs::path path_;
  bool mounted_ = false;
};

TEST_F(FerryctlTest, DiskFullFailsCleanlyAndKeepsTheOldVersion) {
  SmallVolume volume(scratch_ / "volume");
  if (!volume.mounted()) GTEST_SKIP() << "mounting a tmpfs needs root (CAP_SYS_ADMIN)";
  const fs::path store = scratch_ / "volume" / "store";
  ASSERT_EQ(Pull(Repository(), "1.0.0", store).exit_code, 0);
  // 1.0.0 takes about 10.3 MB; 1.1.0 needs another ~15 MB (delta plus new file).
  ASSERT_TRUE(volume.Resize("16m"));

  ProcessResult pulled = Pull(Repository(), "1.1.0", store);
  EXPECT_EQ(pulled.exit_code, 1);
  EXPECT_NE(pulled.err.find("No space left on device"), std::string::npos) << pulled.err;
  EXPECT_NE(pulled.err.find("free space"), std::string::npos) << pulled.err;
  EXPECT_EQ(CurrentVersion(store), "1.0.0");
  ProcessResult verified = Ferryctl({"verify", "--store", store.string(), "--model", "gpt-a"});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;

  // With room again, the same pull completes.
  ASSERT_TRUE(volume.Resize("64m"));
  ProcessResult retried = Pull(Repository(), "1.1.0", store);
  EXPECT_EQ(retried.exit_code, 0) << retried.err;
  EXPECT_EQ(CurrentVersion(store), "1.1.0");
}

}  // namespace
}  // namespace ferry::testing
