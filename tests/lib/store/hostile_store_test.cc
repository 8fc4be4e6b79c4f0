// The store against a hostile or damaged node (defects 4, 5 and 11 of the
// adversarial review): names planted inside a model's folder that point
// outside the store are removed, never followed; damage to one version's meta
// or to state.json is reported by readers instead of blocking them; and a
// damaged complete version is repaired by activating a full copy of it, also
// across a kill in the middle of the replace. We run as root, so file modes
// stop no write: every test checks modes and contents explicitly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "lib/store/layout.h"
#include "lib/store/store.h"
#include "lib/store/tree.h"
#include "tests/lib/store/store_fixture.h"
#include "tests/support/temp_dir.h"

namespace ferry::store {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::TestFile;

// Whether anything, a dangling symlink included, has this name.
bool NameExists(const fs::path& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0;
}

mode_t ModeOf(const fs::path& path) {
  struct stat info {};
  EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
  return info.st_mode;
}

ino_t InodeOf(const fs::path& path) {
  struct stat info {};
  EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
  return info.st_ino;
}

std::string ContentsOf(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::set<std::string> NamesIn(const fs::path& dir) {
  std::set<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

// A file outside the store with a mode no store operation would give it.
void WriteOutside(const fs::path& path, std::string_view contents, mode_t mode) {
  { std::ofstream(path, std::ios::binary) << contents; }
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
}

// Flips one byte of a file in place, as bit rot would: same inode, same
// size, same (read-only) mode.
void FlipByte(const fs::path& path, std::streamoff offset) {
  const mode_t mode = ModeOf(path) & 07777;
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0) << path;
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(file.is_open()) << path;
    file.seekg(offset);
    const char byte = static_cast<char>(file.get());
    file.seekp(offset);
    file.put(static_cast<char>(byte ^ 0x20));
  }
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
}

class HostileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<Store> opened = Store::Open(dir_ / "store");
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_.emplace(std::move(*opened));
  }

  Status StageAndActivate(const std::string& version, const std::vector<TestFile>& files,
                          int keep = 2, const std::string& model = "coder") {
    return testing::StageAndActivate(*store_, model, version, files, keep);
  }

  static std::vector<TestFile> Files(uint64_t seed) { return testing::ModelFiles(seed); }

  static uint64_t BytesOf(const std::vector<TestFile>& files) {
    uint64_t bytes = 0;
    for (const TestFile& file : files) bytes += file.content.size();
    return bytes;
  }

  fs::path ModelDir() const { return dir_ / "store" / "coder"; }
  ModelLayout Layout() const { return {dir_ / "store", "coder"}; }

  std::optional<std::string> Current() const { return testing::CurrentOf(*store_, "coder"); }
  std::vector<std::string> Versions() const { return testing::VersionsOf(*store_, "coder"); }

  ferry::testing::TempDir dir_;
  std::optional<Store> store_;
};

// Defect 4: the sweep's move to trash chmod'ed through a stray symlink in
// versions/, so any file on the node could be made world-readable.
TEST_F(HostileStoreTest, StraySymlinksInVersionsAreRemovedNeverFollowed) {
  ASSERT_TRUE(StageAndActivate("1.0.0", Files(1)).ok());
  ASSERT_TRUE(StageAndActivate("2.0.0", Files(2)).ok());
  const fs::path outside = dir_ / "outside";
  ASSERT_TRUE(fs::create_directories(outside / "dir"));
  WriteOutside(outside / "secret", "root's secret", 0600);
  WriteOutside(outside / "dir" / "kept.txt", "kept", 0600);
  ASSERT_EQ(::chmod((outside / "dir").c_str(), 0700), 0);
  const fs::path file_link = ModelDir() / "versions" / "9.9.9";
  const fs::path folder_link = ModelDir() / "versions" / "9.9.8";
  auto plant = [&] {
    fs::create_symlink(outside / "secret", file_link);
    fs::create_symlink(outside / "dir", folder_link);
  };
  auto expect_outside_untouched = [&] {
    EXPECT_EQ(ModeOf(outside / "secret") & 07777, 0600u);
    EXPECT_EQ(ContentsOf(outside / "secret"), "root's secret");
    ASSERT_TRUE(S_ISDIR(ModeOf(outside / "dir")));
    EXPECT_EQ(ModeOf(outside / "dir") & 07777, 0700u);
    EXPECT_EQ(ModeOf(outside / "dir" / "kept.txt") & 07777, 0600u);
    EXPECT_EQ(ContentsOf(outside / "dir" / "kept.txt"), "kept");
    EXPECT_FALSE(NameExists(file_link));
    EXPECT_FALSE(NameExists(folder_link));
    EXPECT_FALSE(NameExists(ModelDir() / "trash"));
  };

  plant();
  Result<std::string> back = store_->Rollback("coder");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, "1.0.0");
  expect_outside_untouched();

  // Planted after BeginStaging, so it is the activation's own sweep that
  // meets them, not the recovery BeginStaging starts with.
  Result<Staging> staging = store_->BeginStaging("coder", "3.0.0");
  ASSERT_TRUE(staging.ok()) << staging.error().message;
  ASSERT_TRUE(testing::WriteAllStaged(*staging, Files(3)).ok());
  plant();
  Status activated =
      store_->Activate(std::move(*staging), testing::EntriesOf(Files(3)), "m", "s", 2);
  ASSERT_TRUE(activated.ok()) << activated.error().message;
  expect_outside_untouched();
  EXPECT_EQ(Current(), "3.0.0");
  EXPECT_EQ(Versions(), (std::vector<std::string>{"3.0.0", "1.0.0"}));
  EXPECT_TRUE(store_->Verify("coder").ok());
  EXPECT_TRUE(store_->Verify("coder", "1.0.0").ok());
}

// Defect 5: with trash/ a symlink, the sweep deleted the folder of the same
// name outside the store, then moved the version out there.
TEST_F(HostileStoreTest, ATrashSymlinkIsReplacedByAFolderOfTheStore) {
  ASSERT_TRUE(StageAndActivate("1.0.0", Files(1)).ok());
  const fs::path outside = dir_ / "outside2";
  ASSERT_TRUE(fs::create_directories(outside / "1.0.0"));
  WriteOutside(outside / "1.0.0" / "victim.bin", "not the store's", 0600);
  WriteOutside(outside / "other.txt", "other", 0640);
  ASSERT_EQ(::chmod((outside / "1.0.0").c_str(), 0700), 0);
  ASSERT_EQ(::chmod(outside.c_str(), 0710), 0);

  Result<Staging> staging = store_->BeginStaging("coder", "2.0.0");
  ASSERT_TRUE(staging.ok()) << staging.error().message;
  ASSERT_TRUE(testing::WriteAllStaged(*staging, Files(2)).ok());
  fs::create_symlink(outside, ModelDir() / "trash");
  // keep 1 pushes 1.0.0 out: the sweep moves it to trash/ and deletes it.
  Status activated =
      store_->Activate(std::move(*staging), testing::EntriesOf(Files(2)), "m", "s", /*keep=*/1);
  ASSERT_TRUE(activated.ok()) << activated.error().message;

  EXPECT_EQ(ModeOf(outside) & 07777, 0710u);
  EXPECT_EQ(NamesIn(outside), (std::set<std::string>{"1.0.0", "other.txt"}));
  EXPECT_EQ(ModeOf(outside / "1.0.0") & 07777, 0700u);
  EXPECT_EQ(NamesIn(outside / "1.0.0"), (std::set<std::string>{"victim.bin"}));
  EXPECT_EQ(ContentsOf(outside / "1.0.0" / "victim.bin"), "not the store's");
  EXPECT_EQ(ModeOf(outside / "1.0.0" / "victim.bin") & 07777, 0600u);
  EXPECT_EQ(ContentsOf(outside / "other.txt"), "other");
  EXPECT_EQ(ModeOf(outside / "other.txt") & 07777, 0640u);

  // The store did what it meant to, inside itself.
  EXPECT_FALSE(NameExists(ModelDir() / "versions" / "1.0.0"));
  EXPECT_FALSE(NameExists(ModelDir() / "meta" / "1.0.0"));
  EXPECT_FALSE(NameExists(ModelDir() / "trash"));
  EXPECT_EQ(Versions(), (std::vector<std::string>{"2.0.0"}));
  EXPECT_TRUE(store_->Verify("coder").ok());
}

// Defect 5: a pull's fetch cache is never reached through a symlink.
TEST_F(HostileStoreTest, ACacheFolderPlantedAsASymlinkIsRefused) {
  ASSERT_TRUE(StageAndActivate("1.0.0", Files(1)).ok());
  const fs::path outside = dir_ / "outside3";
  ASSERT_TRUE(fs::create_directories(outside));
  WriteOutside(outside / "note.txt", "note", 0600);
  ASSERT_EQ(::chmod(outside.c_str(), 0700), 0);

  Result<Staging> staging = store_->BeginStaging("coder", "2.0.0");
  ASSERT_TRUE(staging.ok()) << staging.error().message;
  const fs::path link = ModelDir() / "staging" / ".2.0.0.cache";
  fs::create_symlink(outside, link);
  Result<fs::path> cache = staging->CacheDir();
  ASSERT_FALSE(cache.ok());
  EXPECT_EQ(cache.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(cache.error().message, HasSubstr("symlink"));
  EXPECT_THAT(cache.error().message, HasSubstr(link.string()));
  EXPECT_EQ(NamesIn(outside), (std::set<std::string>{"note.txt"}));
  EXPECT_EQ(ModeOf(outside) & 07777, 0700u);

  // Once the link is gone the cache is a folder of the store's own, and it
  // goes with the activation; the link's target never changes.
  ASSERT_TRUE(fs::remove(link));
  cache = staging->CacheDir();
  ASSERT_TRUE(cache.ok()) << cache.error().message;
  EXPECT_EQ(*cache, link);
  EXPECT_TRUE(IsFolder(*cache / "objects"));
  ASSERT_TRUE(testing::WriteAllStaged(*staging, Files(2)).ok());
  fs::create_symlink(outside, *cache / "objects" / "planted");
  Status activated = store_->Activate(std::move(*staging), testing::EntriesOf(Files(2)), "m", "s");
  ASSERT_TRUE(activated.ok()) << activated.error().message;
  EXPECT_FALSE(NameExists(link));
  EXPECT_EQ(NamesIn(outside), (std::set<std::string>{"note.txt"}));
  EXPECT_EQ(ContentsOf(outside / "note.txt"), "note");
  EXPECT_EQ(ModeOf(outside / "note.txt") & 07777, 0600u);
}

// Defect 5: state.json and the journal are written through a temporary
// "<name>.tmp-<pid>"; one planted as a symlink must not aim the write outside.
TEST_F(HostileStoreTest, PlantedTemporariesDoNotRedirectAtomicWrites) {
  ASSERT_TRUE(StageAndActivate("1.0.0", Files(1)).ok());
  const fs::path outside = dir_ / "outside";
  ASSERT_TRUE(fs::create_directories(outside));
  WriteOutside(outside / "state-target", "precious state", 0600);
  WriteOutside(outside / "journal-target", "precious journal", 0600);

  Result<Staging> staging = store_->BeginStaging("coder", "2.0.0");
  ASSERT_TRUE(staging.ok()) << staging.error().message;
  ASSERT_TRUE(testing::WriteAllStaged(*staging, Files(2)).ok());
  // Planted after BeginStaging, whose sweep would remove them as leftovers.
  const std::string pid = std::to_string(::getpid());
  fs::create_symlink(outside / "state-target", ModelDir() / ("state.json.tmp-" + pid));
  fs::create_symlink(outside / "journal-target", ModelDir() / ("journal.tmp-" + pid));
  Status activated = store_->Activate(std::move(*staging), testing::EntriesOf(Files(2)), "m", "s");
  ASSERT_TRUE(activated.ok()) << activated.error().message;

  EXPECT_EQ(ContentsOf(outside / "state-target"), "precious state");
  EXPECT_EQ(ModeOf(outside / "state-target") & 07777, 0600u);
  EXPECT_EQ(ContentsOf(outside / "journal-target"), "precious journal");
  EXPECT_EQ(ModeOf(outside / "journal-target") & 07777, 0600u);
  EXPECT_TRUE(S_ISREG(ModeOf(ModelDir() / "state.json")));
  EXPECT_FALSE(NameExists(ModelDir() / ("state.json.tmp-" + pid)));
  EXPECT_FALSE(NameExists(ModelDir() / ("journal.tmp-" + pid)));
  EXPECT_FALSE(NameExists(ModelDir() / "journal"));
  Result<ModelInfo> info = store_->Describe("coder");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->current, "2.0.0");
  EXPECT_TRUE(info->damage.empty());
  EXPECT_EQ(Versions(), (std::vector<std::string>{"2.0.0", "1.0.0"}));
}

// Defect 11: damage to another version's meta, or to state.json, is reported
// by the readers; it neither fails Verify of an intact version nor Describe.
TEST_F(HostileStoreTest, DamagedMetaIsReportedWithoutBlockingReaders) {
  ASSERT_TRUE(StageAndActivate("1.0.0", Files(1)).ok());
  ASSERT_TRUE(StageAndActivate("2.0.0", Files(2)).ok());
  ASSERT_EQ(store_->Rollback("coder").value(), "1.0.0");
  ASSERT_TRUE(fs::remove(ModelDir() / "meta" / "2.0.0" / "files.json"));

  EXPECT_TRUE(store_->Verify("coder", "1.0.0").ok());
  EXPECT_TRUE(store_->Verify("coder").ok());
  Status other = store_->Verify("coder", "2.0.0");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(other.error().message, HasSubstr("files.json"));
  EXPECT_THAT(other.error().message, HasSubstr("the version is damaged"));

  Result<ModelInfo> info = store_->Describe("coder");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->current, "1.0.0");
  EXPECT_TRUE(info->damage.empty());
  ASSERT_EQ(info->versions.size(), 2u);
  EXPECT_EQ(info->versions[0].version, "1.0.0");
  EXPECT_TRUE(info->versions[0].current);
  EXPECT_EQ(info->versions[0].bytes, BytesOf(Files(1)));
  EXPECT_EQ(info->versions[0].damage, "");
  EXPECT_EQ(info->versions[1].version, "2.0.0");
  EXPECT_FALSE(info->versions[1].current);
  EXPECT_THAT(info->versions[1].damage, HasSubstr("files.json"));

  ASSERT_TRUE(WriteFileAtomically(ModelDir() / "state.json", "{\"format\": 1, \"activ").ok());
  EXPECT_TRUE(store_->Verify("coder", "1.0.0").ok());
  EXPECT_TRUE(store_->Verify("coder").ok());
  info = store_->Describe("coder");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->current, "1.0.0");
  ASSERT_EQ(info->damage.size(), 1u);
  EXPECT_THAT(info->damage[0], HasSubstr("state.json"));
  EXPECT_THAT(info->damage[0], HasSubstr("is damaged"));
  // Without a history the versions come by name; both are still there.
  ASSERT_EQ(info->versions.size(), 2u);
  EXPECT_EQ(info->versions[0].version, "1.0.0");
  EXPECT_TRUE(info->versions[0].current);
  EXPECT_EQ(info->versions[0].activated_at, "");
  EXPECT_THAT(info->versions[1].damage, HasSubstr("files.json"));
}

// Defect 11: one model with a damaged state.json made List fail for all.
TEST_F(HostileStoreTest, ListReportsEachModelOnItsOwn) {
  ASSERT_TRUE(StageAndActivate("1.0.0", Files(1)).ok());
  ASSERT_TRUE(StageAndActivate("1.0.0", Files(5), 2, "other").ok());
  ASSERT_TRUE(WriteFileAtomically(ModelDir() / "state.json", "garbage").ok());

  Result<std::vector<ModelInfo>> models = store_->List();
  ASSERT_TRUE(models.ok()) << models.error().message;
  ASSERT_EQ(models->size(), 2u);
  const ModelInfo& damaged = (*models)[0];
  EXPECT_EQ(damaged.model, "coder");
  ASSERT_EQ(damaged.damage.size(), 1u);
  EXPECT_THAT(damaged.damage[0], HasSubstr((ModelDir() / "state.json").string()));
  EXPECT_EQ(damaged.current, "1.0.0");  // its current link is intact
  ASSERT_EQ(damaged.versions.size(), 1u);
  EXPECT_EQ(damaged.versions[0].version, "1.0.0");

  const ModelInfo& intact = (*models)[1];
  EXPECT_EQ(intact.model, "other");
  EXPECT_TRUE(intact.damage.empty());
  EXPECT_EQ(intact.current, "1.0.0");
  ASSERT_EQ(intact.versions.size(), 1u);
  EXPECT_EQ(intact.versions[0].version, "1.0.0");
  EXPECT_TRUE(intact.versions[0].current);
  EXPECT_EQ(intact.versions[0].bytes, BytesOf(Files(5)));
  EXPECT_FALSE(intact.versions[0].activated_at.empty());
  EXPECT_EQ(intact.versions[0].damage, "");
  EXPECT_TRUE(store_->Verify("other").ok());
}

// Defect 11 (and 12): readers open a store without creating one.
TEST_F(HostileStoreTest, OpenExistingCreatesNothing) {
  const fs::path typo = dir_ / "typo";
  Result<Store> missing = Store::OpenExisting(typo);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(missing.error().message, HasSubstr("no store at " + typo.string()));
  EXPECT_FALSE(NameExists(typo));

  const fs::path deeper = dir_ / "typo" / "deeper";
  EXPECT_EQ(Store::OpenExisting(deeper).error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(NameExists(typo));

  const fs::path empty = dir_ / "empty";
  ASSERT_TRUE(fs::create_directory(empty));
  Result<Store> unmarked = Store::OpenExisting(empty);
  ASSERT_FALSE(unmarked.ok());
  EXPECT_EQ(unmarked.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(unmarked.error().message, HasSubstr(".ferry-store is missing"));
  EXPECT_FALSE(NameExists(empty / ".ferry-store"));
  EXPECT_TRUE(fs::is_empty(empty));

  ASSERT_TRUE(StageAndActivate("1.0.0", Files(1)).ok());
  Result<Store> existing = Store::OpenExisting(dir_ / "store");
  ASSERT_TRUE(existing.ok()) << existing.error().message;
  EXPECT_EQ(existing->Describe("coder").value().current, "1.0.0");
}

// Defect 11: a damaged current used to be "already current" for ever. A full
// staged copy of it replaces it, and `current` names it throughout.
TEST_F(HostileStoreTest, ADamagedCurrentIsRepairedByActivatingAFullCopy) {
  const std::vector<TestFile> v1 = Files(1);
  ASSERT_TRUE(StageAndActivate("1.0.0", v1).ok());
  const fs::path version = ModelDir() / "versions" / "1.0.0";
  FlipByte(version / "model.safetensors", 4242);
  Status rotten = store_->Verify("coder");
  ASSERT_FALSE(rotten.ok());
  EXPECT_EQ(rotten.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(rotten.error().message, HasSubstr("file model.safetensors has SHA-256"));

  Result<Staging> repair = store_->BeginStaging("coder", "1.0.0");
  ASSERT_TRUE(repair.ok()) << repair.error().message;
  ASSERT_TRUE(testing::WriteAllStaged(*repair, v1).ok());
  EXPECT_EQ(fs::read_symlink(ModelDir() / "current"), "versions/1.0.0");
  EXPECT_EQ(Current(), "1.0.0");
  EXPECT_TRUE(IsFolder(version));
  Status activated = store_->Activate(std::move(*repair), testing::EntriesOf(v1), "manifest 1.0.0",
                                      "signature 1.0.0");
  ASSERT_TRUE(activated.ok()) << activated.error().message;

  Status verified = store_->Verify("coder");
  EXPECT_TRUE(verified.ok()) << verified.error().message;
  EXPECT_EQ(fs::read_symlink(ModelDir() / "current"), "versions/1.0.0");
  EXPECT_EQ(ToHex(Sha256Of(ContentsOf(ModelDir() / "current" / "model.safetensors"))),
            ToHex(v1[1].entry().sha256));
  EXPECT_EQ(ModeOf(version / "model.safetensors") & 07777, 0444u);
  EXPECT_EQ(ModeOf(version / "tokenizer") & 07777, 0555u);
  EXPECT_EQ(ModeOf(version) & 07777, 0555u);
  EXPECT_EQ(store_->ReadManifest("coder", "1.0.0").value(), "manifest 1.0.0");
  EXPECT_EQ(store_->ReadFiles("coder", "1.0.0").value(), testing::EntriesOf(v1));
  EXPECT_EQ(Versions(), (std::vector<std::string>{"1.0.0"}));
  EXPECT_FALSE(NameExists(ModelDir() / "journal"));
  EXPECT_FALSE(NameExists(ModelDir() / "staging" / "1.0.0"));
  EXPECT_FALSE(NameExists(ModelDir() / "trash"));
}

// The repair of a pull: what is intact is linked from the damaged version
// itself, the damaged copy is refused as a source and fetched instead.
TEST_F(HostileStoreTest, ARepairLinksTheIntactFilesAndRefusesTheDamagedOne) {
  const std::vector<TestFile> v1 = Files(1);
  ASSERT_TRUE(StageAndActivate("1.0.0", v1).ok());
  const fs::path version = ModelDir() / "versions" / "1.0.0";
  FlipByte(version / "model.safetensors", 7);
  const ino_t config_inode = InodeOf(version / "config.json");

  Result<Staging> repair = store_->BeginStaging("coder", "1.0.0");
  ASSERT_TRUE(repair.ok()) << repair.error().message;
  std::vector<HeldFile> held;
  for (const TestFile& file : v1) held.push_back({"1.0.0", file.path, file.entry()});
  const std::vector<Status> linked = repair->LinkFromVersions(held);
  ASSERT_EQ(linked.size(), 3u);
  EXPECT_TRUE(linked[0].ok()) << linked[0].error().message;
  ASSERT_FALSE(linked[1].ok());
  EXPECT_EQ(linked[1].error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(linked[1].error().message,
              HasSubstr("the copy of model.safetensors in version 1.0.0"));
  EXPECT_THAT(linked[1].error().message, HasSubstr("it is damaged"));
  EXPECT_TRUE(linked[2].ok()) << linked[2].error().message;
  EXPECT_FALSE(NameExists(repair->dir() / "model.safetensors"));
  EXPECT_FALSE(repair->IsVerified(v1[1].entry()));

  ASSERT_TRUE(testing::WriteStaged(*repair, v1[1]).ok());
  Status activated = store_->Activate(std::move(*repair), testing::EntriesOf(v1), "m", "s");
  ASSERT_TRUE(activated.ok()) << activated.error().message;
  Status verified = store_->Verify("coder");
  EXPECT_TRUE(verified.ok()) << verified.error().message;
  EXPECT_EQ(InodeOf(version / "config.json"), config_inode);  // linked, not copied
  EXPECT_EQ(Current(), "1.0.0");
}

// A kill inside the replace, after the journal and the move of the damaged
// copy to trash/: `current` dangles until the next writer rolls the journal
// forward, which moves the staged copy into place.
TEST_F(HostileStoreTest, AKillDuringTheReplaceIsFinishedByRecover) {
  const std::vector<TestFile> v1 = Files(1);
  ASSERT_TRUE(StageAndActivate("1.0.0", v1).ok());
  const ModelLayout layout = Layout();
  FlipByte(layout.version("1.0.0") / "model.safetensors", 99);

  ino_t staged_inode = 0;
  {
    Result<Staging> repair = store_->BeginStaging("coder", "1.0.0");
    ASSERT_TRUE(repair.ok()) << repair.error().message;
    ASSERT_TRUE(testing::WriteAllStaged(*repair, v1).ok());
    // What Activate does before the journal: sealed and synced (its meta,
    // the same file list, is already in place).
    Result<Tree> tree = ScanTree(repair->dir());
    ASSERT_TRUE(tree.ok()) << tree.error().message;
    ASSERT_TRUE(SealTree(repair->dir(), *tree).ok());
    staged_inode = InodeOf(repair->dir() / "model.safetensors");
    // The journal as Activate writes it, then the damaged copy moved aside.
    ASSERT_TRUE(WriteFileAtomically(layout.journal(),
                                    R"({"format":1,"op":"activate","version":"1.0.0","keep":2})"
                                    "\n")
                    .ok());
    ASSERT_TRUE(fs::create_directory(layout.trash()));
    ASSERT_EQ(::chmod(layout.version("1.0.0").c_str(), 0755), 0);
    fs::rename(layout.version("1.0.0"), layout.trash() / "1.0.0");
  }  // the kill: the lock goes with the process, the staging folder stays
  EXPECT_FALSE(NameExists(layout.version("1.0.0")));

  Status recovered = store_->Recover("coder");
  ASSERT_TRUE(recovered.ok()) << recovered.error().message;
  EXPECT_TRUE(IsFolder(layout.version("1.0.0")));
  EXPECT_EQ(InodeOf(layout.version("1.0.0") / "model.safetensors"), staged_inode);
  EXPECT_EQ(ModeOf(layout.version("1.0.0")) & 07777, 0555u);
  EXPECT_EQ(fs::read_symlink(layout.current()), "versions/1.0.0");
  EXPECT_EQ(Current(), "1.0.0");
  Status verified = store_->Verify("coder");
  EXPECT_TRUE(verified.ok()) << verified.error().message;
  EXPECT_FALSE(NameExists(layout.journal()));
  EXPECT_FALSE(NameExists(layout.trash()));
  EXPECT_FALSE(NameExists(layout.staging("1.0.0")));
  EXPECT_EQ(Versions(), (std::vector<std::string>{"1.0.0"}));
}

// Defects 4 and 5, one level up: the model's own versions/, meta/ and staging/
// replaced by symlinks. BeginStaging refuses them; the writing calls that go
// straight to recovery (Rollback, ActivateHeld, Remove, Recover) must too:
// the sweep would list these folders through the link and empty the target.
TEST_F(HostileStoreTest, TheModelsOwnFoldersAreNeverFollowed) {
  for (const char* name : {"versions", "meta", "staging"}) {
    SCOPED_TRACE(name);
    Result<Store> opened = Store::Open(dir_ / name / "store");
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_.emplace(std::move(*opened));
    ASSERT_TRUE(StageAndActivate("1.0.0", Files(1)).ok());
    ASSERT_TRUE(StageAndActivate("2.0.0", Files(2)).ok());
    const fs::path model = dir_ / name / "store" / "coder";
    // Names each part of the sweep would take for its own: a version, a
    // fetch cache, a temporary, and a plain file.
    const fs::path outside = dir_ / name / "outside";
    ASSERT_TRUE(fs::create_directories(outside / "9.9.9"));
    ASSERT_TRUE(fs::create_directories(outside / ".1.0.0.cache"));
    ASSERT_EQ(::chmod((outside / "9.9.9").c_str(), 0700), 0);
    WriteOutside(outside / "9.9.9" / "kept.txt", "kept", 0600);
    WriteOutside(outside / ".x.tmp-1", "temporary", 0600);
    WriteOutside(outside / "passwd", "root:x:0:0", 0644);
    const std::set<std::string> planted = {"9.9.9", ".1.0.0.cache", ".x.tmp-1", "passwd"};
    fs::rename(model / name, dir_ / name / ("real-" + std::string(name)));
    fs::create_symlink(outside, model / name);

    Result<Staging> staging = store_->BeginStaging("coder", "3.0.0");
    ASSERT_FALSE(staging.ok());
    EXPECT_EQ(staging.error().code, ErrorCode::kCorrupt);
    EXPECT_THAT(staging.error().message, HasSubstr("exists but is not a folder"));
    EXPECT_EQ(NamesIn(outside), planted);

    Result<std::string> back = store_->Rollback("coder");
    EXPECT_EQ(NamesIn(outside), planted);
    EXPECT_EQ(ContentsOf(outside / "passwd"), "root:x:0:0");
    if (fs::exists(outside / "9.9.9")) {
      EXPECT_EQ(ModeOf(outside / "9.9.9") & 07777, 0700u);
      EXPECT_EQ(ContentsOf(outside / "9.9.9" / "kept.txt"), "kept");
    }
    if (back.ok()) {
      ADD_FAILURE() << "rolled back to " << *back << " through " << model / name;
      continue;
    }
    EXPECT_EQ(back.error().code, ErrorCode::kCorrupt);
    EXPECT_THAT(back.error().message, HasSubstr((model / name).string()));
  }
}

}  // namespace
}  // namespace ferry::store
