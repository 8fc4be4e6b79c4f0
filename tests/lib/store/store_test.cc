#include "lib/store/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "tests/lib/store/store_fixture.h"
#include "tests/support/temp_dir.h"

namespace ferry::store {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::TestFile;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<Store> opened = Store::Open(dir_ / "store");
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_.emplace(std::move(*opened));
  }

  Status StageAndActivate(const std::string& version, const std::vector<TestFile>& files,
                          int keep = 2) {
    return testing::StageAndActivate(*store_, "coder", version, files, keep);
  }

  static std::vector<TestFile> Files(uint64_t seed) { return testing::ModelFiles(seed); }

  fs::path ModelDir() const { return dir_ / "store" / "coder"; }

  static struct stat Stat(const fs::path& path) {
    struct stat info {};
    EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
    return info;
  }

  std::optional<std::string> Current() const { return testing::CurrentOf(*store_, "coder"); }
  std::vector<std::string> Versions() const { return testing::VersionsOf(*store_, "coder"); }

  ferry::testing::TempDir dir_;
  std::optional<Store> store_;
};

TEST_F(StoreTest, OpenWritesAFormatMarkerAndRefusesANewerFormat) {
  EXPECT_TRUE(fs::exists(dir_ / "store" / ".ferry-store"));
  EXPECT_TRUE(Store::Open(dir_ / "store").ok());
  ASSERT_TRUE(
      WriteFileAtomically(dir_ / "store" / ".ferry-store", R"({"kind":"ferry-store","format":9})")
          .ok());
  Result<Store> newer = Store::Open(dir_ / "store");
  ASSERT_FALSE(newer.ok());
  EXPECT_THAT(newer.error().message, HasSubstr("upgrade ferry"));
}

TEST_F(StoreTest, ActivateMakesAReadOnlyCurrentVersionAndKeepsItsMeta) {
  const std::vector<TestFile> files = Files(1);
  ASSERT_TRUE(StageAndActivate("1.0.0", files).ok());

  EXPECT_EQ(fs::read_symlink(ModelDir() / "current"), "versions/1.0.0");
  EXPECT_EQ(Current(), "1.0.0");
  const fs::path version = ModelDir() / "versions" / "1.0.0";
  EXPECT_EQ(Stat(version / "model.safetensors").st_mode & 07777, 0444u);
  EXPECT_EQ(Stat(version / "tokenizer").st_mode & 07777, 0555u);
  EXPECT_EQ(Stat(version).st_mode & 07777, 0555u);
  std::ifstream read(ModelDir() / "current" / "tokenizer" / "vocab.json", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(read), {}), files[2].content);

  EXPECT_EQ(store_->ReadManifest("coder", "1.0.0").value(), "manifest 1.0.0");
  EXPECT_EQ(store_->ReadSignature("coder", "1.0.0").value(), "signature 1.0.0");
  EXPECT_EQ(store_->ReadFiles("coder", "1.0.0").value(), testing::EntriesOf(files));
  EXPECT_EQ(store_->VersionPath("coder", "1.0.0").value(), version);
  EXPECT_TRUE(store_->Verify("coder").ok());

  Result<ModelInfo> info = store_->Describe("coder");
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info->versions.size(), 1u);
  EXPECT_TRUE(info->versions[0].current);
  EXPECT_EQ(info->versions[0].bytes, 100u + 70000 + 3000);
  EXPECT_FALSE(info->versions[0].activated_at.empty());
  // Nothing of the activation is left lying around.
  EXPECT_FALSE(fs::exists(ModelDir() / "journal"));
  EXPECT_FALSE(fs::exists(ModelDir() / "staging" / "1.0.0"));
  EXPECT_FALSE(fs::exists(ModelDir() / "staging" / ".1.0.0.verified"));

  Result<std::vector<ModelInfo>> models = store_->List();
  ASSERT_TRUE(models.ok());
  ASSERT_EQ(models->size(), 1u);
  EXPECT_EQ((*models)[0].model, "coder");
}

TEST_F(StoreTest, UnchangedFilesAreHardLinkedFromThePreviousVersion) {
  const std::vector<TestFile> v1 = Files(1);
  ASSERT_TRUE(StageAndActivate("1.0.0", v1).ok());
  std::vector<TestFile> v2 = v1;
  v2[1].content = testing::RandomBytes(99, 70000);

  Result<Staging> staging = store_->BeginStaging("coder", "2.0.0");
  ASSERT_TRUE(staging.ok()) << staging.error().message;
  ASSERT_TRUE(staging->LinkFromVersion("1.0.0", v2[0].entry()).ok());
  ASSERT_TRUE(staging->LinkFromVersion("1.0.0", v2[2].entry()).ok());
  // A linked file was hashed as it was linked: Activate need not hash it again.
  EXPECT_TRUE(staging->IsVerified(v2[0].entry()));
  ASSERT_TRUE(testing::WriteStaged(*staging, v2[1]).ok());
  ASSERT_TRUE(store_->Activate(std::move(*staging), testing::EntriesOf(v2), "m", "s").ok());

  const fs::path old_dir = ModelDir() / "versions" / "1.0.0";
  const fs::path new_dir = ModelDir() / "versions" / "2.0.0";
  EXPECT_EQ(Stat(old_dir / "config.json").st_ino, Stat(new_dir / "config.json").st_ino);
  EXPECT_EQ(Stat(old_dir / "tokenizer/vocab.json").st_ino,
            Stat(new_dir / "tokenizer/vocab.json").st_ino);
  EXPECT_NE(Stat(old_dir / "model.safetensors").st_ino, Stat(new_dir / "model.safetensors").st_ino);
  EXPECT_EQ(Current(), "2.0.0");
  EXPECT_TRUE(store_->Verify("coder", "1.0.0").ok());
  EXPECT_TRUE(store_->Verify("coder", "2.0.0").ok());
}

TEST_F(StoreTest, WritingALinkedNameNeverChangesTheStoredVersion) {
  const std::vector<TestFile> v1 = Files(1);
  ASSERT_TRUE(StageAndActivate("1.0.0", v1).ok());
  Result<Staging> staging = store_->BeginStaging("coder", "2.0.0");
  ASSERT_TRUE(staging.ok());
  ASSERT_TRUE(staging->LinkFromVersion("1.0.0", v1[0].entry()).ok());
  // We are root in CI, so 0444 alone would not stop this write.
  ASSERT_TRUE(testing::WriteStaged(*staging, {"config.json", "changed"}).ok());
  EXPECT_TRUE(store_->Verify("coder", "1.0.0").ok());
}

TEST_F(StoreTest, KeepsTheTwoNewestVersionsAndRollsBackWithoutCopying) {
  for (int i = 1; i <= 4; ++i) {
    ASSERT_TRUE(StageAndActivate(std::to_string(i) + ".0.0", Files(i * 10)).ok());
  }
  EXPECT_EQ(Versions(), (std::vector<std::string>{"4.0.0", "3.0.0"}));
  EXPECT_FALSE(fs::exists(ModelDir() / "versions" / "1.0.0"));
  EXPECT_FALSE(fs::exists(ModelDir() / "meta" / "2.0.0"));
  EXPECT_FALSE(fs::exists(ModelDir() / "trash"));

  const ino_t inode = Stat(ModelDir() / "versions" / "3.0.0" / "model.safetensors").st_ino;
  Result<std::string> back = store_->Rollback("coder");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, "3.0.0");
  EXPECT_EQ(Current(), "3.0.0");
  struct stat through_current {};
  ASSERT_EQ(::stat((ModelDir() / "current" / "model.safetensors").c_str(), &through_current), 0);
  EXPECT_EQ(through_current.st_ino, inode);
  EXPECT_TRUE(store_->Verify("coder").ok());
  // Both stay; the one rolled back from is now the previous one.
  EXPECT_EQ(Versions(), (std::vector<std::string>{"3.0.0", "4.0.0"}));
  Result<std::string> forth = store_->Rollback("coder");
  ASSERT_TRUE(forth.ok());
  EXPECT_EQ(*forth, "4.0.0");
}

TEST_F(StoreTest, RollbackWithoutAnEarlierVersionSaysSo) {
  ASSERT_TRUE(StageAndActivate("1.0.0", Files(1)).ok());
  Result<std::string> back = store_->Rollback("coder");
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(back.error().message, HasSubstr("no earlier version is kept"));
  EXPECT_EQ(Current(), "1.0.0");

  Result<std::string> unknown = store_->Rollback("other");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.error().message, HasSubstr("model other is not in the store"));
}

TEST_F(StoreTest, KeepOneLeavesNothingToRollBackTo) {
  ASSERT_TRUE(StageAndActivate("1.0.0", Files(1)).ok());
  ASSERT_TRUE(StageAndActivate("2.0.0", Files(2), /*keep=*/1).ok());
  EXPECT_EQ(Versions(), (std::vector<std::string>{"2.0.0"}));
  EXPECT_FALSE(store_->Rollback("coder").ok());
}

TEST_F(StoreTest, ActivatingAHeldVersionSwitchesToItAndTheCurrentOneIsANoOp) {
  const std::vector<TestFile> v1 = Files(1);
  ASSERT_TRUE(StageAndActivate("1.0.0", v1).ok());
  ASSERT_TRUE(StageAndActivate("2.0.0", Files(2)).ok());
  // What a killed pull of 1.0.0 leaves behind goes with the switch.
  {
    Result<Staging> killed = store_->BeginStaging("coder", "1.0.0");
    ASSERT_TRUE(killed.ok());
    ASSERT_TRUE(testing::WriteStaged(*killed, v1[0]).ok());
  }
  const fs::path held = ModelDir() / "versions/1.0.0/model.safetensors";
  const ino_t inode = Stat(held).st_ino;
  ASSERT_TRUE(store_->ActivateHeld("coder", "1.0.0").ok());
  EXPECT_EQ(Current(), "1.0.0");
  EXPECT_EQ(Stat(held).st_ino, inode);  // switched, not copied
  EXPECT_FALSE(fs::exists(ModelDir() / "staging" / "1.0.0"));
  ASSERT_TRUE(store_->ActivateHeld("coder", "1.0.0").ok());
  EXPECT_EQ(Current(), "1.0.0");
  EXPECT_EQ(Versions(), (std::vector<std::string>{"1.0.0", "2.0.0"}));

  Status missing = store_->ActivateHeld("coder", "3.0.0");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(StoreTest, AStagedCopyOfAStoredVersionReplacesIt) {
  const std::vector<TestFile> v1 = Files(1);
  ASSERT_TRUE(StageAndActivate("1.0.0", v1).ok());
  const fs::path damaged = ModelDir() / "versions/1.0.0/config.json";
  ::chmod(damaged.parent_path().c_str(), 0755);
  fs::remove(damaged);
  { std::ofstream(damaged) << "rotten"; }
  ASSERT_FALSE(store_->Verify("coder").ok());

  Result<Staging> repair = store_->BeginStaging("coder", "1.0.0");
  ASSERT_TRUE(repair.ok());
  ASSERT_TRUE(testing::WriteAllStaged(*repair, v1).ok());
  ASSERT_TRUE(store_->Activate(std::move(*repair), testing::EntriesOf(v1), "m", "s").ok());
  EXPECT_EQ(Current(), "1.0.0");
  EXPECT_TRUE(store_->Verify("coder").ok());
  EXPECT_FALSE(fs::exists(ModelDir() / "staging" / "1.0.0"));
  EXPECT_FALSE(fs::exists(ModelDir() / "trash"));

  // A version never changes its files.
  Result<Staging> changed = store_->BeginStaging("coder", "1.0.0");
  ASSERT_TRUE(changed.ok());
  ASSERT_TRUE(testing::WriteAllStaged(*changed, Files(7)).ok());
  Status conflict = store_->Activate(std::move(*changed), testing::EntriesOf(Files(7)), "m", "s");
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code, ErrorCode::kConflict);
  EXPECT_TRUE(store_->Verify("coder").ok());
}

TEST_F(StoreTest, AHeldVersionIsCompleteButNotCurrentUntilActivated) {
  ASSERT_TRUE(StageAndActivate("1.0.0", Files(1)).ok());
  const std::vector<TestFile> v2 = Files(2);
  Result<Staging> staging = store_->BeginStaging("coder", "2.0.0");
  ASSERT_TRUE(staging.ok());
  ASSERT_TRUE(testing::WriteAllStaged(*staging, v2).ok());
  ASSERT_TRUE(store_->Hold(std::move(*staging), testing::EntriesOf(v2), "m2", "s2").ok());

  EXPECT_EQ(Current(), "1.0.0");
  EXPECT_TRUE(store_->VersionPath("coder", "2.0.0").ok());
  EXPECT_TRUE(store_->Verify("coder", "2.0.0").ok());
  EXPECT_EQ(store_->ReadManifest("coder", "2.0.0").value(), "m2");
  EXPECT_EQ(Stat(ModelDir() / "versions/2.0.0/config.json").st_mode & 0777, 0444u);
  // Held versions are not activations: a rollback still has nowhere to go,
  // and activating others with keep=1 never sweeps the held one.
  EXPECT_EQ(store_->Rollback("coder").error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(StageAndActivate("3.0.0", Files(3), /*keep=*/1).ok());
  EXPECT_EQ(Current(), "3.0.0");
  EXPECT_TRUE(store_->VersionPath("coder", "2.0.0").ok());
  EXPECT_FALSE(store_->VersionPath("coder", "1.0.0").ok());
  ASSERT_TRUE(store_->Recover("coder").ok());
  EXPECT_TRUE(store_->VersionPath("coder", "2.0.0").ok());

  // Activation is the symlink swap; the version is then an ordinary
  // activation, and rolling back returns to the one before it.
  const ino_t inode = Stat(ModelDir() / "versions/2.0.0/model.safetensors").st_ino;
  ASSERT_TRUE(store_->ActivateHeld("coder", "2.0.0").ok());
  EXPECT_EQ(Current(), "2.0.0");
  EXPECT_EQ(Stat(ModelDir() / "versions/2.0.0/model.safetensors").st_ino, inode);
  Result<std::string> back = store_->Rollback("coder");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, "3.0.0");
}

TEST_F(StoreTest, AHeldVersionIsRemovedLikeAnyOther) {
  ASSERT_TRUE(StageAndActivate("1.0.0", Files(1)).ok());
  const std::vector<TestFile> v2 = Files(2);
  Result<Staging> staging = store_->BeginStaging("coder", "2.0.0");
  ASSERT_TRUE(staging.ok());
  ASSERT_TRUE(testing::WriteAllStaged(*staging, v2).ok());
  ASSERT_TRUE(store_->Hold(std::move(*staging), testing::EntriesOf(v2), "m", "s").ok());
  ASSERT_TRUE(store_->Remove("coder", "2.0.0").ok());
  EXPECT_EQ(Versions(), (std::vector<std::string>{"1.0.0"}));
  EXPECT_FALSE(fs::exists(ModelDir() / "meta" / "2.0.0"));
  EXPECT_EQ(Current(), "1.0.0");
}

TEST_F(StoreTest, HoldRefusesAStagedFileThatIsNotItsEntry) {
  std::vector<TestFile> v2 = Files(2);
  Result<Staging> staging = store_->BeginStaging("coder", "2.0.0");
  ASSERT_TRUE(staging.ok());
  ASSERT_TRUE(testing::WriteAllStaged(*staging, v2).ok());
  std::vector<FileEntry> entries = testing::EntriesOf(v2);
  entries[0].sha256[0] ^= 1;
  Status refused = store_->Hold(std::move(*staging), entries, "m", "s");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(refused.error().message, HasSubstr("removed from staging: fetch it again"));
  EXPECT_FALSE(store_->VersionPath("coder", "2.0.0").ok());
}

TEST_F(StoreTest, RemoveDeletesAnOldVersionButNeverTheCurrentOne) {
  ASSERT_TRUE(StageAndActivate("1.0.0", Files(1)).ok());
  ASSERT_TRUE(StageAndActivate("2.0.0", Files(2)).ok());
  Status refused = store_->Remove("coder", "2.0.0");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("it is the current version"));
  ASSERT_TRUE(store_->Remove("coder", "1.0.0").ok());
  EXPECT_EQ(Versions(), (std::vector<std::string>{"2.0.0"}));
  EXPECT_FALSE(fs::exists(ModelDir() / "meta" / "1.0.0"));
  EXPECT_EQ(store_->Remove("coder", "1.0.0").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->Verify("coder").ok());
}

TEST_F(StoreTest, ASecondWriterIsToldWhoHoldsTheModel) {
  {
    Result<Staging> first = store_->BeginStaging("coder", "1.0.0");
    ASSERT_TRUE(first.ok());
    Result<Staging> second = store_->BeginStaging("coder", "2.0.0");
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code, ErrorCode::kUnavailable);
    EXPECT_THAT(second.error().message,
                HasSubstr("another ferry process is updating model coder (pid " +
                          std::to_string(::getpid()) + ")"));
    EXPECT_FALSE(store_->Rollback("coder").ok());
    EXPECT_TRUE(store_->BeginStaging("other", "1.0.0").ok());  // models are independent
  }
  // The lock went with the staging.
  EXPECT_TRUE(store_->BeginStaging("coder", "2.0.0").ok());
}

class VerifyTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_TRUE(StageAndActivate("1.0.0", Files(1)).ok());
    // Tampering needs write access to the read-only version.
    ASSERT_EQ(::chmod(Dir().c_str(), 0755), 0);
    ASSERT_EQ(::chmod((Dir() / "model.safetensors").c_str(), 0644), 0);
  }
  fs::path Dir() const { return ModelDir() / "versions" / "1.0.0"; }

  void ExpectVerifyFails(const std::string& message) {
    Status status = store_->Verify("coder");
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code, ErrorCode::kCorrupt);
    EXPECT_THAT(status.error().message, HasSubstr(message));
    EXPECT_THAT(status.error().message, HasSubstr("verify coder 1.0.0"));
  }
};

TEST_F(VerifyTest, DetectsAChangedByte) {
  std::fstream file(Dir() / "model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(12345);
  const char byte = static_cast<char>(file.get());
  file.seekp(12345);
  file.put(static_cast<char>(byte ^ 1));
  file.close();
  ExpectVerifyFails("file model.safetensors has SHA-256");
}

TEST_F(VerifyTest, DetectsAMissingFile) {
  fs::remove(Dir() / "model.safetensors");
  ExpectVerifyFails("file model.safetensors is missing");
}

TEST_F(VerifyTest, DetectsAnExtraFile) {
  std::ofstream(Dir() / "planted.bin") << "x";
  ExpectVerifyFails("file planted.bin is not in the version's file list");
}

TEST_F(VerifyTest, DetectsASymlink) {
  fs::create_symlink("/etc/hostname", Dir() / "link");
  ExpectVerifyFails("is a symlink");
}

}  // namespace
}  // namespace ferry::store
