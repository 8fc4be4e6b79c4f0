// A damaged delta, a wrong base or a missing one must end in an error, never
// in a wrong output or a crash, and must leave no output behind.
#include <gtest/gtest.h>

#include <fstream>

#include "lib/delta/delta.h"
#include "tests/lib/delta/test_models.h"
#include "tests/support/temp_dir.h"

namespace ferry::delta {
namespace {

namespace fs = std::filesystem;
using testing::RandomTensor;
using testing::TestTensor;

class DeltaCorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937_64 random(23);
    // Every record kind: the header (zstd), an unchanged tensor (copy), a
    // numeric difference and a fresh tensor (segments).
    const TestTensor same = RandomTensor("same", "F32", {40}, random);
    TestTensor trained = RandomTensor("trained", "BF16", {64, 64}, random);
    testing::WriteSafetensors(dir_ / "base.safetensors", {same, trained});
    trained.bytes = testing::Perturb("BF16", trained.bytes, random);
    const TestTensor added = RandomTensor("added", "F16", {100}, random);
    testing::WriteSafetensors(dir_ / "target.safetensors", {same, trained, added});
    bases_ = {{"base.safetensors", dir_ / "base.safetensors"}};
    ASSERT_TRUE(EncodeFile(bases_, dir_ / "target.safetensors", dir_ / "delta").ok());
    delta_ = testing::ReadBytes(dir_ / "delta");
  }

  // Applies `bytes` as a delta; the output must not exist afterwards.
  Result<ApplyResult> Apply(const std::vector<uint8_t>& bytes, const ApplyOptions& options = {}) {
    std::ofstream(dir_ / "damaged", std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    Result<ApplyResult> result = ApplyFile(bases_, dir_ / "damaged", dir_ / "out", options);
    if (!result.ok()) {
      EXPECT_FALSE(fs::exists(dir_ / "out"));
    }
    return result;
  }

  ferry::testing::TempDir dir_;
  std::vector<BaseFile> bases_;
  std::vector<uint8_t> delta_;
};

TEST_F(DeltaCorruptionTest, TheIntactDeltaApplies) {
  Result<ApplyResult> result = Apply(delta_);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(testing::ReadBytes(dir_ / "out"), testing::ReadBytes(dir_ / "target.safetensors"));
}

TEST_F(DeltaCorruptionTest, EveryFlippedBitIsRejected) {
  std::mt19937_64 random(29);
  // Every byte of the first 200 (header and first records) and of the last
  // 64, and 300 random positions between.
  std::vector<size_t> positions;
  for (size_t i = 0; i < std::min<size_t>(200, delta_.size()); ++i) positions.push_back(i);
  for (size_t i = delta_.size() - 64; i < delta_.size(); ++i) positions.push_back(i);
  for (int i = 0; i < 300; ++i) positions.push_back(random() % delta_.size());
  for (size_t position : positions) {
    std::vector<uint8_t> damaged = delta_;
    damaged[position] ^= static_cast<uint8_t>(1u << (random() % 8));
    Result<ApplyResult> result = Apply(damaged, {.bases_already_verified = true});
    ASSERT_FALSE(result.ok()) << "a flipped bit at byte " << position << " went unnoticed";
    const ErrorCode code = result.error().code;
    EXPECT_TRUE(code == ErrorCode::kCorrupt || code == ErrorCode::kInvalidArgument)
        << result.error().message;
  }
}

TEST_F(DeltaCorruptionTest, TruncatedDeltasAreRejected) {
  for (size_t length : {size_t{0}, size_t{7}, size_t{40}, delta_.size() / 2, delta_.size() - 1}) {
    Result<ApplyResult> result =
        Apply(std::vector<uint8_t>(delta_.begin(), delta_.begin() + length));
    ASSERT_FALSE(result.ok()) << length;
  }
  std::vector<uint8_t> longer = delta_;
  longer.push_back(0);
  EXPECT_FALSE(Apply(longer).ok());
}

TEST_F(DeltaCorruptionTest, AWrongBaseIsNamed) {
  std::mt19937_64 random(31);
  testing::WriteSafetensors(dir_ / "other.safetensors",
                            {RandomTensor("same", "F32", {40}, random)});
  bases_ = {{"base.safetensors", dir_ / "other.safetensors"}};
  Result<ApplyResult> result = Apply(delta_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  const std::string& message = result.error().message;
  EXPECT_NE(message.find("delta expects base base.safetensors sha256:"), std::string::npos)
      << message;
  EXPECT_NE(message.find("the file given"), std::string::npos) << message;
  EXPECT_NE(message.find("pull the version this delta was made from"), std::string::npos)
      << message;
}

TEST_F(DeltaCorruptionTest, AMissingBaseIsNamed) {
  bases_ = {{"model.safetensors", dir_ / "base.safetensors"}};
  Result<ApplyResult> result = Apply(delta_);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("needs base base.safetensors"), std::string::npos)
      << result.error().message;
}

TEST_F(DeltaCorruptionTest, AnAlteredBaseOfTheRightSizeFailsEvenWhenTrusted) {
  // The caller claims it verified the bases; the output's hash still catches it.
  std::vector<uint8_t> base = testing::ReadBytes(dir_ / "base.safetensors");
  base[base.size() - 3] ^= 0x40;
  std::ofstream(dir_ / "altered", std::ios::binary)
      .write(reinterpret_cast<const char*>(base.data()), static_cast<std::streamsize>(base.size()));
  bases_ = {{"base.safetensors", dir_ / "altered"}};
  Result<ApplyResult> result = Apply(delta_, {.bases_already_verified = true});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kCorrupt);
}

TEST_F(DeltaCorruptionTest, AnOutputThatIsAnInputIsRefused) {
  const std::vector<uint8_t> base = testing::ReadBytes(dir_ / "base.safetensors");
  Result<ApplyResult> result = ApplyFile(bases_, dir_ / "delta", dir_ / "base.safetensors");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("is also an input"), std::string::npos);
  EXPECT_EQ(testing::ReadBytes(dir_ / "base.safetensors"), base);
  EXPECT_FALSE(EncodeFile(bases_, dir_ / "target.safetensors", dir_ / "target.safetensors").ok());
}

TEST_F(DeltaCorruptionTest, ReadDeltaInfoRejectsOtherFiles) {
  EXPECT_FALSE(ReadDeltaInfo(dir_ / "base.safetensors").ok());
  Result<DeltaInfo> info = ReadDeltaInfo(dir_ / "delta");
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info->bases.size(), 1u);
  EXPECT_EQ(info->bases[0].first, "base.safetensors");
  EXPECT_EQ(info->bases[0].second, *Sha256OfFile(dir_ / "base.safetensors"));
}

}  // namespace
}  // namespace ferry::delta
