#include "lib/common/sha256.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace ferry {
namespace {

// FIPS 180-2 test vectors.
TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(ToHex(Sha256Of(std::string_view(""))),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(Sha256Of(std::string_view("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, IncrementalEqualsOneShot) {
  std::string text(1000003, '\0');
  for (size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>(i * 131 % 251);
  Sha256 hash;
  for (size_t at = 0; at < text.size(); at += 4099) {
    hash.Update(std::string_view(text).substr(at, 4099));
  }
  EXPECT_EQ(hash.Finish(), Sha256Of(std::string_view(text)));
}

TEST(Sha256Test, FileDigestMatchesContents) {
  testing::TempDir dir;
  std::ofstream(dir / "f") << "abc";
  Result<Sha256Digest> digest = Sha256OfFile(dir / "f");
  ASSERT_TRUE(digest.ok()) << digest.error().message;
  EXPECT_EQ(*digest, Sha256Of(std::string_view("abc")));
  EXPECT_EQ(Sha256OfFile(dir / "missing").error().code, ErrorCode::kNotFound);
}

TEST(Sha256Test, HexRoundTripAndRejection) {
  const Sha256Digest digest = Sha256Of(std::string_view("x"));
  Result<Sha256Digest> parsed = ParseSha256Hex(ToHex(digest));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, digest);
  EXPECT_FALSE(ParseSha256Hex("abc").ok());
  EXPECT_FALSE(ParseSha256Hex(std::string(63, 'a') + "g").ok());
}

}  // namespace
}  // namespace ferry
