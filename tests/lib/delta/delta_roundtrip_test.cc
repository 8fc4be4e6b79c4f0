// Round trips through EncodeFile and ApplyFile: real checkpoints, every
// dtype, shards, tensors added, removed, reshaped and re-typed, and files
// that are not safetensors. Every rebuilt file must equal its target byte for
// byte.
#include <gtest/gtest.h>

#include <fstream>

#include "lib/delta/delta.h"
#include "tests/lib/delta/test_models.h"
#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"

namespace ferry::delta {
namespace {

namespace fs = std::filesystem;
using testing::RandomTensor;
using testing::TestTensor;
using testing::WriteSafetensors;

fs::path Model(const std::string& version) {
  return ferry::testing::SourcePath("../shared/models/gpt-a/gpt-a-" + version + ".safetensors");
}

// Encodes `target` against `bases`, applies the delta and checks the result;
// returns the encoder's statistics.
EncodeStats RoundTrip(const std::vector<BaseFile>& bases, const fs::path& target,
                      const fs::path& work) {
  const fs::path delta = work / (target.filename().string() + ".delta");
  const fs::path out = work / (target.filename().string() + ".out");
  Result<EncodeStats> stats = EncodeFile(bases, target, delta);
  EXPECT_TRUE(stats.ok()) << stats.error().message;
  if (!stats.ok()) return {};
  EXPECT_EQ(stats->delta_bytes, fs::file_size(delta));
  EXPECT_EQ(stats->target_bytes, fs::file_size(target));

  Result<ApplyResult> applied = ApplyFile(bases, delta, out);
  EXPECT_TRUE(applied.ok()) << applied.error().message;
  if (!applied.ok()) return *stats;
  EXPECT_EQ(testing::ReadBytes(out), testing::ReadBytes(target)) << target;
  EXPECT_EQ(applied->size, fs::file_size(target));
  EXPECT_EQ(applied->sha256, *Sha256OfFile(target));

  Result<DeltaInfo> info = ReadDeltaInfo(delta);
  EXPECT_TRUE(info.ok());
  if (info.ok()) {
    EXPECT_EQ(info->target_sha256, applied->sha256);
    EXPECT_EQ(info->tensor_aware, stats->tensor_aware);
  }
  return *stats;
}

std::vector<BaseFile> Bases(std::initializer_list<fs::path> paths) {
  std::vector<BaseFile> bases;
  for (const fs::path& path : paths) bases.push_back({path.filename().string(), path});
  return bases;
}

TEST(DeltaRoundTripTest, RealCheckpointsBothDirections) {
  ferry::testing::TempDir dir;
  for (const char* version : {"v1.1", "ft", "lora-merged"}) {
    SCOPED_TRACE(version);
    const EncodeStats forward = RoundTrip(Bases({Model("v1.0")}), Model(version), dir.path());
    EXPECT_TRUE(forward.tensor_aware);
    // Far below what generic tools reach (zstd --patch-from: 78% and 50%).
    EXPECT_LT(forward.delta_bytes,
              forward.target_bytes * (std::string(version) == "lora-merged" ? 0.37 : 0.51));
    const EncodeStats backward = RoundTrip(Bases({Model(version)}), Model("v1.0"), dir.path());
    EXPECT_TRUE(backward.tensor_aware);
    EXPECT_LT(backward.delta_bytes, backward.target_bytes * 0.55);
  }
}

TEST(DeltaRoundTripTest, UnchangedTensorsCostNoPayload) {
  ferry::testing::TempDir dir;
  const EncodeStats lora = RoundTrip(Bases({Model("v1.0")}), Model("lora-merged"), dir.path());
  EXPECT_GT(lora.tensors_unchanged, 0u);
  EXPECT_GT(lora.tensors_diffed, 0u);

  // A file against itself: every tensor is unchanged, so the delta is only
  // framing, however large the tensors.
  const EncodeStats same = RoundTrip(Bases({Model("v1.0")}), Model("v1.0"), dir.path());
  EXPECT_EQ(same.tensors_diffed + same.tensors_fresh, 0u);
  EXPECT_GT(same.tensors_unchanged, 50u);
  EXPECT_LT(same.delta_bytes, 1000u);
}

TEST(DeltaRoundTripTest, EveryDtypeWithSmallUpdates) {
  ferry::testing::TempDir dir;
  std::mt19937_64 random(7);
  std::vector<TestTensor> base, target;
  for (const char* dtype : {"BF16", "F16", "F32", "F64", "I8", "U8", "BOOL", "I16", "U16", "I32",
                            "U32", "I64", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0"}) {
    TestTensor tensor = RandomTensor(std::string("w.") + dtype, dtype, {64, 300}, random);
    TestTensor updated = tensor;
    updated.bytes = testing::Perturb(dtype, tensor.bytes, random);
    base.push_back(tensor);
    target.push_back(updated);
  }
  WriteSafetensors(dir / "base.safetensors", base);
  WriteSafetensors(dir / "target.safetensors", target);
  const EncodeStats stats =
      RoundTrip(Bases({dir / "base.safetensors"}), dir / "target.safetensors", dir.path());
  EXPECT_EQ(stats.tensors_diffed, base.size());

  // Floats alone: an update of 1% of the weights' spread carries about
  // log2(update / ulp) + 2 bits an element (0.36, 0.59 and 0.75 of the
  // element for f16, f32, f64); the delta must come close.
  for (const auto& [dtype, ratio] : {std::pair{"F16", 0.5}, {"F32", 0.66}, {"F64", 0.8}}) {
    SCOPED_TRACE(dtype);
    TestTensor tensor = RandomTensor("w", dtype, {256, 512}, random);
    TestTensor updated = tensor;
    updated.bytes = testing::Perturb(dtype, tensor.bytes, random, 0.0002);
    WriteSafetensors(dir / "b.safetensors", {tensor});
    WriteSafetensors(dir / "t.safetensors", {updated});
    const EncodeStats alone =
        RoundTrip(Bases({dir / "b.safetensors"}), dir / "t.safetensors", dir.path());
    EXPECT_LT(alone.delta_bytes, alone.target_bytes * ratio);
  }
}

TEST(DeltaRoundTripTest, TensorsAddedRemovedReshapedAndRetyped) {
  ferry::testing::TempDir dir;
  std::mt19937_64 random(11);
  const TestTensor kept = RandomTensor("kept", "BF16", {32, 32}, random);
  const TestTensor removed = RandomTensor("removed", "F32", {100}, random);
  const TestTensor reshaped = RandomTensor("reshaped", "BF16", {16, 64}, random);
  const TestTensor resized = RandomTensor("resized", "F16", {10, 10}, random);
  const TestTensor retyped = RandomTensor("retyped", "F32", {50}, random);
  WriteSafetensors(dir / "base.safetensors", {kept, removed, reshaped, resized, retyped},
                   {{"version", "1"}});

  TestTensor reshaped_new = reshaped;
  reshaped_new.shape = {64, 16};  // same elements: stays a numeric difference
  reshaped_new.bytes = testing::Perturb("BF16", reshaped.bytes, random);
  TestTensor resized_new = RandomTensor("resized", "F16", {12, 10}, random);
  TestTensor retyped_new = RandomTensor("retyped", "BF16", {50}, random);
  TestTensor added = RandomTensor("added", "I32", {77}, random);
  // Fresh 64-bit values are close to random: raw bit fields of up to 63 bits.
  TestTensor added_wide = RandomTensor("added.wide", "U64", {300}, random);
  TestTensor added_double = RandomTensor("added.double", "F64", {300}, random);
  WriteSafetensors(dir / "target.safetensors",
                   {added, retyped_new, kept, resized_new, added_wide, reshaped_new, added_double},
                   {{"version", "2"}});
  const EncodeStats stats =
      RoundTrip(Bases({dir / "base.safetensors"}), dir / "target.safetensors", dir.path());
  EXPECT_TRUE(stats.tensor_aware);
  EXPECT_EQ(stats.tensors_unchanged, 1u);  // kept
  EXPECT_EQ(stats.tensors_diffed, 1u);     // reshaped
  EXPECT_EQ(stats.tensors_fresh, 5u);      // the three added, resized, retyped
}

TEST(DeltaRoundTripTest, ShardsWhoseTensorsMoved) {
  ferry::testing::TempDir dir;
  std::mt19937_64 random(13);
  std::vector<TestTensor> layers;
  for (int i = 0; i < 4; ++i)
    layers.push_back(RandomTensor("layer." + std::to_string(i), "BF16", {64, 128}, random));
  const auto write_index = [&](const fs::path& path,
                               const std::vector<std::pair<int, int>>& shard_of) {
    std::ofstream index(path);
    index << "{\"metadata\": {\"total_size\": 65536}, \"weight_map\": {";
    for (size_t i = 0; i < shard_of.size(); ++i) {
      index << (i ? ", " : "") << "\"layer." << shard_of[i].first << "\": \"model-0000"
            << shard_of[i].second << "-of-00002.safetensors\"";
    }
    index << "}}\n";
  };
  fs::create_directories(dir / "v1");
  fs::create_directories(dir / "v2");
  WriteSafetensors(dir / "v1/model-00001-of-00002.safetensors", {layers[0], layers[1]});
  WriteSafetensors(dir / "v1/model-00002-of-00002.safetensors", {layers[2], layers[3]});
  write_index(dir / "v1/model.safetensors.index.json", {{0, 1}, {1, 1}, {2, 2}, {3, 2}});

  // v2 trains every layer a little and moves layer.1 to the second shard.
  std::vector<TestTensor> trained = layers;
  for (TestTensor& tensor : trained) tensor.bytes = testing::Perturb("BF16", tensor.bytes, random);
  WriteSafetensors(dir / "v2/model-00001-of-00002.safetensors", {trained[0]});
  WriteSafetensors(dir / "v2/model-00002-of-00002.safetensors",
                   {trained[1], trained[2], trained[3]});
  write_index(dir / "v2/model.safetensors.index.json", {{0, 1}, {1, 2}, {2, 2}, {3, 2}});

  const std::vector<BaseFile> shards = Bases(
      {dir / "v1/model-00001-of-00002.safetensors", dir / "v1/model-00002-of-00002.safetensors"});
  const EncodeStats second =
      RoundTrip(shards, dir / "v2/model-00002-of-00002.safetensors", dir.path());
  EXPECT_EQ(second.tensors_diffed, 3u);  // layer.1 found its partner in the other shard
  EXPECT_EQ(second.tensors_fresh, 0u);
  EXPECT_EQ(
      RoundTrip(shards, dir / "v2/model-00001-of-00002.safetensors", dir.path()).tensors_diffed,
      1u);

  const EncodeStats index = RoundTrip(Bases({dir / "v1/model.safetensors.index.json"}),
                                      dir / "v2/model.safetensors.index.json", dir.path());
  EXPECT_FALSE(index.tensor_aware);
}

TEST(DeltaRoundTripTest, GenericDeltaForOtherFiles) {
  ferry::testing::TempDir dir;
  std::string tokenizer = "{\"version\": \"1.0\", \"model\": {\"vocab\": {";
  std::mt19937_64 random(17);
  for (int i = 0; i < 20000; ++i) {
    tokenizer += "\"tok" + std::to_string(random() % 1000000) + "\": " + std::to_string(i) + ", ";
  }
  tokenizer += "\"end\": 0}}}";
  std::string edited = tokenizer;
  edited.replace(100, 12, "\"added\": 99, ");
  edited.replace(edited.size() / 2, 5, "XXXXX");
  edited.insert(edited.size() - 50, "\"more\": 1, ");
  fs::create_directories(dir / "old");
  std::ofstream(dir / "old/tokenizer.json") << tokenizer;
  std::ofstream(dir / "tokenizer.json") << edited;
  const EncodeStats stats =
      RoundTrip(Bases({dir / "old/tokenizer.json"}), dir / "tokenizer.json", dir.path());
  EXPECT_FALSE(stats.tensor_aware);
  EXPECT_LT(stats.delta_bytes, 1000u);

  // A safetensors target against a base that is not one: generic too.
  std::ofstream(dir / "empty") << "";
  EXPECT_FALSE(
      RoundTrip(Bases({dir / "old/tokenizer.json"}), Model("v1.1"), dir.path()).tensor_aware);
  // Empty files, and no base at all.
  EXPECT_FALSE(RoundTrip(Bases({dir / "tokenizer.json"}), dir / "empty", dir.path()).tensor_aware);
  EXPECT_FALSE(RoundTrip({}, dir / "tokenizer.json", dir.path()).tensor_aware);
}

TEST(DeltaRoundTripTest, GapsTailsAndTensorsLargerThanASegment) {
  ferry::testing::TempDir dir;
  std::mt19937_64 random(19);
  // 5 Mi elements: more than one segment holds.
  TestTensor big = RandomTensor("big", "BF16", {5, 1024, 1024}, random);
  TestTensor small = RandomTensor("small", "F32", {3}, random);
  WriteSafetensors(dir / "base.safetensors", {big, small});
  big.bytes = testing::Perturb("BF16", big.bytes, random);
  // Hand-made layout: a gap of 5 bytes between the tensors and 3 bytes of tail.
  const std::string header =
      "{\"big\":{\"dtype\":\"BF16\",\"shape\":[5,1024,1024],\"data_offsets\":[0,10485760]},"
      "\"small\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[10485765,10485777]}}";
  std::ofstream target(dir / "target.safetensors", std::ios::binary);
  const uint64_t length = header.size();
  target.write(reinterpret_cast<const char*>(&length), 8);
  target << header;
  target.write(reinterpret_cast<const char*>(big.bytes.data()),
               static_cast<std::streamsize>(big.bytes.size()));
  target << "gap!!";
  target.write(reinterpret_cast<const char*>(small.bytes.data()), 12);
  target << "end";
  target.close();
  const EncodeStats stats =
      RoundTrip(Bases({dir / "base.safetensors"}), dir / "target.safetensors", dir.path());
  EXPECT_TRUE(stats.tensor_aware);
  EXPECT_EQ(stats.tensors_diffed, 1u);
  EXPECT_EQ(stats.tensors_unchanged, 1u);
  // Every chunk of the big tensor is coded as bf16 (about 7 bits an element).
  EXPECT_LT(stats.delta_bytes, stats.target_bytes / 2);

  // The delta does not depend on how many threads encode its segments.
  const std::vector<BaseFile> bases = Bases({dir / "base.safetensors"});
  ASSERT_TRUE(EncodeFile(bases, dir / "target.safetensors", dir / "one", {.threads = 1}).ok());
  ASSERT_TRUE(EncodeFile(bases, dir / "target.safetensors", dir / "four", {.threads = 4}).ok());
  EXPECT_EQ(testing::ReadBytes(dir / "one"), testing::ReadBytes(dir / "four"));
}

}  // namespace
}  // namespace ferry::delta
