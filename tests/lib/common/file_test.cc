#include "lib/common/file.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace ferry {
namespace {

TEST(FileTest, WriteAtomicallyReplacesWholeFileAndLeavesNoTemporary) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir / "state.json", "old").ok());
  ASSERT_TRUE(WriteFileAtomically(dir / "state.json", "new contents").ok());
  Result<std::string> read = ReadFileToString(dir / "state.json");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, "new contents");
  size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    ++entries;
  }
  EXPECT_EQ(entries, 1u);
}

TEST(FileTest, ErrorsNameThePath) {
  testing::TempDir dir;
  Result<std::string> missing = ReadFileToString(dir / "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos);
}

TEST(FileTest, MappedFileSeesContentsAndHandlesEmptyFiles) {
  testing::TempDir dir;
  std::ofstream(dir / "data") << "tensor bytes";
  std::ofstream(dir / "empty");
  Result<MappedFile> mapped = MappedFile::Open(dir / "data");
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(mapped->bytes().data()), mapped->size()),
            "tensor bytes");
  Result<MappedFile> empty = MappedFile::Open(dir / "empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->size(), 0u);
}

TEST(FileTest, ReadExactlyAtReportsShortFilesAsCorrupt) {
  testing::TempDir dir;
  std::ofstream(dir / "short") << "1234";
  Result<UniqueFd> fd = OpenForRead(dir / "short");
  ASSERT_TRUE(fd.ok());
  std::array<uint8_t, 8> buffer{};
  Status status = ReadExactlyAt(fd->get(), buffer, 0, dir / "short");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kCorrupt);
  EXPECT_TRUE(ReadExactlyAt(fd->get(), std::span(buffer).first(2), 2, dir / "short").ok());
  EXPECT_EQ(buffer[0], '3');
}

}  // namespace
}  // namespace ferry
