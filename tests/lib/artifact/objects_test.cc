#include "lib/artifact/objects.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "lib/artifact/repository_layout.h"
#include "lib/common/file.h"
#include "tests/support/temp_dir.h"

namespace ferry {
namespace {

std::string RandomBytes(size_t size, uint32_t seed) {
  std::mt19937 random(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(random() % 16);  // compressible, like weights
  return bytes;
}

TEST(ObjectsTest, StoreThenAssembleIsBitExactAndDeduplicates) {
  testing::TempDir dir;
  const std::string content = RandomBytes(100000, 1) + RandomBytes(100000, 1);
  std::ofstream(dir / "file", std::ios::binary) << content;
  Result<Blob> blob = StoreBlob(dir / "repo", dir / "file", 50000, 3);
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  EXPECT_EQ(blob->size, content.size());
  ASSERT_EQ(blob->chunks.size(), 4u);
  EXPECT_EQ(blob->chunks[0].sha256, blob->chunks[2].sha256) << "same bytes, same object";
  size_t objects = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir / "repo")) {
    objects += entry.is_regular_file();
  }
  EXPECT_EQ(objects, 2u);

  ASSERT_TRUE(AssembleBlob(*blob, LoadFromRepository(dir / "repo"), dir / "out").ok());
  EXPECT_EQ(*ReadFileToString(dir / "out"), content);
}

TEST(ObjectsTest, DamagedObjectIsCorruptNeverWrongBytes) {
  testing::TempDir dir;
  std::ofstream(dir / "file", std::ios::binary) << RandomBytes(30000, 2);
  Result<Blob> blob = StoreBlob(dir / "repo", dir / "file", 1 << 20, 3);
  ASSERT_TRUE(blob.ok());
  const auto object = dir / "repo" / ObjectPath(blob->chunks[0].sha256);
  const std::string original = *ReadFileToString(object);
  for (size_t bit = 0; bit < original.size() * 8; bit += 97) {
    std::string damaged = original;
    damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
    std::vector<uint8_t> plain;
    Status status =
        DecodeChunk(std::span(reinterpret_cast<const uint8_t*>(damaged.data()), damaged.size()),
                    blob->chunks[0], plain);
    ASSERT_FALSE(status.ok()) << "bit " << bit;
    EXPECT_EQ(status.error().code, ErrorCode::kCorrupt);
  }
}

TEST(ObjectsTest, MissingObjectFailsAssembly) {
  testing::TempDir dir;
  std::ofstream(dir / "file", std::ios::binary) << RandomBytes(1000, 3);
  Result<Blob> blob = StoreBlob(dir / "repo", dir / "file", 1 << 20, 3);
  ASSERT_TRUE(blob.ok());
  std::filesystem::remove(dir / "repo" / ObjectPath(blob->chunks[0].sha256));
  Status status = AssembleBlob(*blob, LoadFromRepository(dir / "repo"), dir / "out");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace ferry
