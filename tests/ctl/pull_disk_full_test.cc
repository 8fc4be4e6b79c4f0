// A pull onto a volume too small for the next version is refused before it
// fetches a byte, with the numbers, and the version in service stays current
// and whole. The volume is a real tmpfs, shrunk after the first version is in
// place.
#include <gtest/gtest.h>

#include "tests/ctl/ferryctl_fixture.h"
#include "tests/support/small_volume.h"

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;

TEST_F(FerryctlTest, DiskFullFailsCleanlyAndKeepsTheOldVersion) {
  SmallVolume volume(scratch_ / "volume", "64m");
  if (!volume.mounted()) GTEST_SKIP() << "mounting a tmpfs needs root (CAP_SYS_ADMIN)";
  const fs::path store = scratch_ / "volume" / "store";
  ASSERT_EQ(Pull(Repository(), "1.0.0", store).exit_code, 0);
  // 1.0.0 takes about 10.3 MB; 1.1.0 needs another ~15 MB (delta plus new file).
  ASSERT_TRUE(volume.Resize("16m"));

  ProcessResult pulled = Pull(Repository(), "1.1.0", store);
  EXPECT_EQ(pulled.exit_code, 1);
  EXPECT_NE(pulled.err.find("not enough disk space: needs"), std::string::npos) << pulled.err;
  EXPECT_NE(pulled.err.find("free space"), std::string::npos) << pulled.err;
  EXPECT_NE(pulled.err.find("nothing was fetched"), std::string::npos) << pulled.err;
  EXPECT_FALSE(fs::exists(store / "gpt-a" / "staging" / ".1.1.0.cache" / "objects") &&
               !fs::is_empty(store / "gpt-a" / "staging" / ".1.1.0.cache" / "objects"));
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
