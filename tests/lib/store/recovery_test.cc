// Recovery from the states a kill leaves, built by hand so each is certain to
// be tested (store_crash_test reaches them by chance).
#include "lib/store/recovery.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "lib/store/file_list.h"
#include "lib/store/history.h"
#include "lib/store/journal.h"
#include "lib/store/store.h"
#include "lib/store/tree.h"
#include "tests/lib/store/store_fixture.h"
#include "tests/support/temp_dir.h"

namespace ferry::store {
namespace {

namespace fs = std::filesystem;
using testing::TestFile;

class RecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<Store> opened = Store::Open(dir_.path());
    ASSERT_TRUE(opened.ok());
    store_.emplace(std::move(*opened));
    ASSERT_TRUE(Activate("1.0.0", v1_).ok());
  }

  Status Activate(const std::string& version, const std::vector<TestFile>& files) {
    Result<Staging> staging = store_->BeginStaging("coder", version);
    if (!staging) return staging.error();
    if (Status s = testing::WriteAllStaged(*staging, files); !s) return s;
    return store_->Activate(std::move(*staging), testing::EntriesOf(files), "m", "s");
  }

  // Everything Activate does up to and including the journal (steps 1-5 of
  // docs/store.md), as if it were killed right after writing it.
  void StageUpToTheJournal(const std::string& version, const std::vector<TestFile>& files) {
    Result<Staging> staging = store_->BeginStaging("coder", version);
    ASSERT_TRUE(staging.ok());
    ASSERT_TRUE(testing::WriteAllStaged(*staging, files).ok());
    Result<Tree> tree = ScanTree(staging->dir());
    ASSERT_TRUE(tree.ok());
    ASSERT_TRUE(SealTree(staging->dir(), *tree).ok());
    fs::create_directories(layout_.meta(version));
    ASSERT_TRUE(WriteFileAtomically(layout_.manifest(version), "m").ok());
    ASSERT_TRUE(WriteFileAtomically(layout_.signature(version), "s").ok());
    ASSERT_TRUE(
        WriteFileAtomically(layout_.files_json(version), EncodeFileList(testing::EntriesOf(files)))
            .ok());
    ASSERT_TRUE(WriteJournal(layout_.journal(), {"activate", version, 2}).ok());
  }

  std::optional<std::string> Current() { return store_->Describe("coder").value().current; }

  ferry::testing::TempDir dir_;
  ModelLayout layout_{dir_.path(), "coder"};
  std::optional<Store> store_;
  const std::vector<TestFile> v1_ = {{"w.bin", testing::RandomBytes(1, 4000)}};
  const std::vector<TestFile> v2_ = {{"w.bin", testing::RandomBytes(2, 4000)},
                                     {"sub/x.bin", testing::RandomBytes(3, 10)}};
};

TEST_F(RecoveryTest, AJournaledActivationIsRolledForward) {
  StageUpToTheJournal("2.0.0", v2_);
  EXPECT_EQ(Current(), "1.0.0");
  ASSERT_TRUE(store_->Recover("coder").ok());
  EXPECT_EQ(Current(), "2.0.0");
  EXPECT_TRUE(store_->Verify("coder").ok());
  EXPECT_FALSE(fs::exists(layout_.journal()));
  EXPECT_FALSE(fs::exists(layout_.staging("2.0.0")));
  Result<History> history = LoadHistory(layout_.state());
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->activations.size(), 2u);
  EXPECT_EQ(history->activations[0].version, "2.0.0");
}

TEST_F(RecoveryTest, ARollForwardKilledHalfwayIsFinished) {
  StageUpToTheJournal("2.0.0", v2_);
  // Killed after step 6 (renamed into place) but before the switch.
  ASSERT_EQ(::rename(layout_.staging("2.0.0").c_str(), layout_.version("2.0.0").c_str()), 0);
  EXPECT_EQ(Current(), "1.0.0");
  ASSERT_TRUE(store_->Recover("coder").ok());
  EXPECT_EQ(Current(), "2.0.0");
  EXPECT_TRUE(store_->Verify("coder").ok());
  // Rolling the same journal forward again changes nothing.
  ASSERT_TRUE(RollForward(layout_, {"activate", "2.0.0", 2}).ok());
  EXPECT_EQ(store_->Describe("coder").value().versions.size(), 2u);
}

TEST_F(RecoveryTest, AJournaledHoldIsRolledForwardWithoutSwitchingCurrent) {
  StageUpToTheJournal("2.0.0", v2_);
  ASSERT_TRUE(WriteJournal(layout_.journal(), {"hold", "2.0.0", std::nullopt}).ok());
  ASSERT_TRUE(store_->Recover("coder").ok());
  EXPECT_EQ(Current(), "1.0.0");
  EXPECT_TRUE(store_->Verify("coder", "2.0.0").ok());
  EXPECT_FALSE(fs::exists(layout_.journal()));
  Result<History> history = LoadHistory(layout_.state());
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->activations.size(), 1u);
  ASSERT_EQ(history->staged.size(), 1u);
  EXPECT_EQ(history->staged[0].version, "2.0.0");
  // Rolled forward twice, it is still listed once.
  ASSERT_TRUE(RollForward(layout_, {"hold", "2.0.0", std::nullopt}).ok());
  EXPECT_EQ(LoadHistory(layout_.state()).value().staged.size(), 1u);
}

TEST_F(RecoveryTest, AJournalWithAnUnknownOpStopsWithAnError) {
  ASSERT_TRUE(WriteFileAtomically(layout_.journal(),
                                  R"({"format": 1, "op": "teleport", "version": "2.0.0"})")
                  .ok());
  Status status = store_->Recover("coder");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(status.error().message, ::testing::HasSubstr("unknown op \"teleport\""));
  EXPECT_EQ(Current(), "1.0.0");
}

TEST_F(RecoveryTest, AJournalWhoseVersionWasDeletedByHandIsDropped) {
  ASSERT_TRUE(WriteJournal(layout_.journal(), {"activate", "9.9.9", 2}).ok());
  ASSERT_TRUE(store_->Recover("coder").ok());
  EXPECT_EQ(Current(), "1.0.0");
  EXPECT_FALSE(fs::exists(layout_.journal()));
}

TEST_F(RecoveryTest, AnInterruptedGarbageCollectionIsFinished) {
  ASSERT_TRUE(Activate("2.0.0", v2_).ok());
  // Killed after state.json dropped 1.0.0, partway through deleting it.
  History history = LoadHistory(layout_.state()).value();
  history.Erase("1.0.0");
  ASSERT_TRUE(SaveHistory(layout_.state(), history).ok());
  fs::create_directories(layout_.trash() / "0.9.0");
  std::ofstream(layout_.trash() / "0.9.0" / "half") << "x";
  std::ofstream(layout_.dir() / "state.json.tmp-12345") << "{";

  ASSERT_TRUE(store_->Recover("coder").ok());
  EXPECT_FALSE(fs::exists(layout_.version("1.0.0")));
  EXPECT_FALSE(fs::exists(layout_.meta("1.0.0")));
  EXPECT_FALSE(fs::exists(layout_.trash()));
  EXPECT_FALSE(fs::exists(layout_.dir() / "state.json.tmp-12345"));
  EXPECT_EQ(Current(), "2.0.0");
  EXPECT_TRUE(store_->Verify("coder").ok());
}

TEST_F(RecoveryTest, MetaWrittenBeforeAKillIsSweptAndStagingKept) {
  Result<Staging> staging = store_->BeginStaging("coder", "2.0.0");
  ASSERT_TRUE(staging.ok());
  ASSERT_TRUE(testing::WriteAllStaged(*staging, v2_).ok());
  fs::create_directories(layout_.meta("2.0.0"));
  staging = Error{};  // the process dies: lock released, nothing journaled
  ASSERT_TRUE(store_->Recover("coder").ok());
  EXPECT_FALSE(fs::exists(layout_.meta("2.0.0")));
  EXPECT_TRUE(fs::exists(layout_.staging("2.0.0") / "sub/x.bin"));
  EXPECT_EQ(Current(), "1.0.0");
}

TEST_F(RecoveryTest, ADamagedJournalStopsWithAnErrorInsteadOfGuessing) {
  ASSERT_TRUE(WriteFileAtomically(layout_.journal(), "{not json").ok());
  Status status = store_->Recover("coder");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(status.error().message, ::testing::HasSubstr("then delete the journal"));
  EXPECT_EQ(Current(), "1.0.0");
}

}  // namespace
}  // namespace ferry::store
