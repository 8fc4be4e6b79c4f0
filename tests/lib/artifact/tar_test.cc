#include "lib/artifact/tar.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace ferry {
namespace {

std::string MemberContents(const TarIndex& index, std::string_view name) {
  const TarMember* member = index.Find(name);
  if (member == nullptr) return "<missing>";
  std::string contents(member->size, '\0');
  EXPECT_TRUE(ReadExactlyAt(index.fd(),
                            std::span(reinterpret_cast<uint8_t*>(contents.data()), contents.size()),
                            member->offset, index.path())
                  .ok());
  return contents;
}

TEST(TarTest, WrittenMembersReadBackIncludingLongNames) {
  testing::TempDir dir;
  const std::string long_name = "models/" + std::string(120, 'm') + "/1.0.0/manifest.json";
  std::ofstream(dir / "source", std::ios::binary) << std::string(1000, 'x');
  Result<TarWriter> writer = TarWriter::Create(dir / "b.tar");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(writer->AddBytes("ferry-repo.json", "{}").ok());
  ASSERT_TRUE(writer->AddBytes(long_name, "manifest").ok());
  ASSERT_TRUE(writer->AddFile("objects/ab/abc.zst", dir / "source").ok());
  ASSERT_TRUE(writer->AddBytes("empty", "").ok());
  EXPECT_FALSE(std::filesystem::exists(dir / "b.tar")) << "only complete bundles are visible";
  ASSERT_TRUE(writer->Finish().ok());

  Result<TarIndex> index = TarIndex::Open(dir / "b.tar");
  ASSERT_TRUE(index.ok()) << index.error().message;
  EXPECT_EQ(MemberContents(*index, "ferry-repo.json"), "{}");
  EXPECT_EQ(MemberContents(*index, long_name), "manifest");
  EXPECT_EQ(MemberContents(*index, "objects/ab/abc.zst"), std::string(1000, 'x'));
  EXPECT_EQ(MemberContents(*index, "empty"), "");
  EXPECT_EQ(index->Find("absent"), nullptr);

  // The system's tar reads it too: it is plain ustar.
  EXPECT_EQ(std::system(("tar -tf " + (dir / "b.tar").string() + " >/dev/null").c_str()), 0);
}

TEST(TarTest, DamagedOrTruncatedArchivesAreCorrupt) {
  testing::TempDir dir;
  Result<TarWriter> writer = TarWriter::Create(dir / "b.tar");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(writer->AddBytes("a", std::string(5000, 'a')).ok());
  ASSERT_TRUE(writer->Finish().ok());
  std::string bytes = *ReadFileToString(dir / "b.tar");

  std::string damaged = bytes;
  damaged[10] = 'Z';  // inside the name: the checksum no longer matches
  std::ofstream(dir / "damaged.tar", std::ios::binary) << damaged;
  Result<TarIndex> bad = TarIndex::Open(dir / "damaged.tar");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kCorrupt);

  std::ofstream(dir / "short.tar", std::ios::binary) << bytes.substr(0, 2048);
  Result<TarIndex> short_archive = TarIndex::Open(dir / "short.tar");
  ASSERT_FALSE(short_archive.ok());
  EXPECT_NE(short_archive.error().message.find("truncated"), std::string::npos);
}

}  // namespace
}  // namespace ferry
