#include "lib/fetch/relative_path.h"

#include <gtest/gtest.h>

#include "lib/common/file.h"
#include "tests/support/temp_dir.h"

namespace ferry::fetch {
namespace {

TEST(ResolveFileTest, FollowsLinksInsideTheRootAndRefusesThoseLeavingIt) {
  ferry::testing::TempDir dir;
  std::filesystem::create_directories(dir / "repo/objects");
  std::filesystem::create_directories(dir / "outside");
  ASSERT_TRUE(WriteFileAtomically(dir / "repo/objects/a", "inside").ok());
  ASSERT_TRUE(WriteFileAtomically(dir / "outside/secret", "secret").ok());
  std::filesystem::create_symlink("objects/a", dir / "repo/alias");
  std::filesystem::create_symlink(dir / "outside", dir / "repo/escape");
  std::filesystem::create_symlink("../outside/secret", dir / "repo/relative-escape");
  const std::filesystem::path root = std::filesystem::canonical(dir / "repo");

  Result<std::filesystem::path> alias = ResolveFile(root, "alias");
  ASSERT_TRUE(alias.ok()) << alias.error().message;
  EXPECT_EQ(*alias, root / "objects/a");

  for (const char* escaping : {"escape/secret", "relative-escape"}) {
    Result<std::filesystem::path> refused = ResolveFile(root, escaping);
    ASSERT_FALSE(refused.ok()) << escaping;
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument) << escaping;
    EXPECT_NE(refused.error().message.find("outside the repository"), std::string::npos);
  }
  EXPECT_EQ(ResolveFile(root, "missing").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(ResolveFile(root, "objects").error().code, ErrorCode::kNotFound);  // a folder
}

}  // namespace
}  // namespace ferry::fetch
