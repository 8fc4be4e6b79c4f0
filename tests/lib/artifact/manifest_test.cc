#include "lib/artifact/manifest.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

Blob MakeBlob(std::string_view content) {
  const auto digest = Sha256Of(content);
  return Blob{content.size(), digest, {ChunkRef{digest, content.size(), content.size() + 9}}};
}

Manifest Sample() {
  Manifest manifest;
  manifest.model = "gpt-a";
  manifest.version = "1.1.0";
  manifest.created = "2026-11-22T05:00:00Z";
  manifest.chunk_size = 8 << 20;
  manifest.files.push_back({"model.safetensors", MakeBlob("weights")});
  manifest.files.push_back({"tokenizer/tokenizer.json", MakeBlob("{}")});
  manifest.deltas.push_back(
      {"1.0.0",
       Sha256Of(std::string_view("old manifest")),
       {DeltaFile{"model.safetensors", {"model.safetensors"}, MakeBlob("delta")}}});
  return manifest;
}

TEST(ManifestTest, SerializeThenParseGivesTheSameManifestAndBytes) {
  const std::string bytes = SerializeManifest(Sample());
  Result<Manifest> parsed = ParseManifest(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->model, "gpt-a");
  ASSERT_EQ(parsed->files.size(), 2u);
  EXPECT_EQ(parsed->files[1].path, "tokenizer/tokenizer.json");
  EXPECT_EQ(parsed->files[0].blob.sha256, Sha256Of(std::string_view("weights")));
  ASSERT_NE(parsed->FindDelta("1.0.0"), nullptr);
  EXPECT_EQ(parsed->FindDelta("1.0.0")->files[0].bases[0], "model.safetensors");
  EXPECT_EQ(SerializeManifest(*parsed), bytes) << "serialisation must be canonical";
}

// Each mutation yields a manifest that must be refused, naming what is wrong.
struct BadManifestCase {
  const char* name;
  std::string from;
  std::string to;
  const char* mentions;
};

void PrintTo(const BadManifestCase& c, std::ostream* out) { *out << c.name; }

class BadManifestTest : public ::testing::TestWithParam<BadManifestCase> {};

TEST_P(BadManifestTest, IsRejectedWithAReason) {
  std::string bytes = SerializeManifest(Sample());
  const auto& param = GetParam();
  const size_t at = bytes.find(param.from);
  ASSERT_NE(at, std::string::npos) << param.from;
  bytes.replace(at, param.from.size(), param.to);
  Result<Manifest> parsed = ParseManifest(bytes);
  ASSERT_FALSE(parsed.ok()) << bytes;
  EXPECT_EQ(parsed.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(parsed.error().message.find(param.mentions), std::string::npos)
      << parsed.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadManifestTest,
    ::testing::Values(
        BadManifestCase{"DotDot", "\"tokenizer/tokenizer.json\"", "\"../etc/passwd\"", "'..'"},
        BadManifestCase{"Absolute", "\"tokenizer/tokenizer.json\"", "\"/etc/passwd\"", "absolute"},
        BadManifestCase{"Backslash", "\"tokenizer/tokenizer.json\"", "\"a\\\\b\"", "backslash"},
        BadManifestCase{"EmptyPart", "\"tokenizer/tokenizer.json\"", "\"a//b\"", "empty"},
        BadManifestCase{"Duplicate", "\"tokenizer/tokenizer.json\"", "\"model.safetensors\"",
                        "twice"},
        BadManifestCase{"FileIsDirectory", "\"tokenizer/tokenizer.json\"",
                        "\"model.safetensors/x\"", "both a file and a directory"},
        BadManifestCase{"Format", "ferry.manifest/v1", "ferry.manifest/v9", "upgrade"},
        BadManifestCase{"ModelName", "\"gpt-a\"", "\"GPT A\"", "model name"},
        BadManifestCase{"Version", "\"1.1.0\"", "\"../1\"", "version"},
        BadManifestCase{"SizeMismatch", "\"size\": 7", "\"size\": 8", "add up"},
        BadManifestCase{"Digest", "\"sha256\": \"sha256:", "\"sha256\": \"md5:", "sha256"},
        BadManifestCase{"NotJson", "{", "[", "not JSON"},
        // A signed manifest may not make a reader allocate what it likes.
        BadManifestCase{"ChunkSizeTooLarge", "\"chunkSize\": 8388608", "\"chunkSize\": 1073741824",
                        "chunkSize: 1073741824 is outside 1..67108864"},
        BadManifestCase{"ChunkSizeZero", "\"chunkSize\": 8388608", "\"chunkSize\": 0",
                        "chunkSize: 0 is outside"},
        BadManifestCase{"ChunkLargerThanChunkSize", "\"chunkSize\": 8388608", "\"chunkSize\": 4",
                        "larger than the manifest's chunkSize 4"},
        BadManifestCase{"StoredLargerThanZstdNeeds", "\"stored\": 16", "\"stored\": 1000000",
                        "more than zstd can need"},
        BadManifestCase{"DeltaTarget", "\"path\": \"model.safetensors\",\n          \"bases\"",
                        "\"path\": \"nothere\",\n          \"bases\"", "not a file"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ManifestTest, GarbageIsRejected) {
  EXPECT_FALSE(ParseManifest("").ok());
  EXPECT_FALSE(ParseManifest("null").ok());
  EXPECT_FALSE(ParseManifest("{\"format\": 3}").ok());
}

}  // namespace
}  // namespace ferry
