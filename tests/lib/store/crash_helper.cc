// store_crash_helper ROOT SEED: the workload store_crash_test kills at random
// moments. It takes model "crash" from nothing (or from wherever a killed run
// left it) to version 2.0.0 current: stages and activates 1.0.0 (20 files of
// random sizes), stages 2.0.0 with a third of the files changed and the rest
// hard-linked from 1.0.0, activates it, then rolls back and forward three
// times. Every step is written to resume, so a rerun always completes.
// Exits 0 when 2.0.0 is current; prints the error and exits 1 otherwise.
#include <iostream>
#include <string>

#include "lib/store/store.h"
#include "tests/lib/store/store_fixture.h"

namespace ferry::store {
namespace {

constexpr char kModel[] = "crash";
constexpr char kOld[] = "1.0.0";
constexpr char kNew[] = "2.0.0";

struct Plan {
  std::vector<testing::TestFile> old_files, new_files;
  std::vector<bool> changed;  // per file: differs between the versions
};

Plan MakePlan(uint64_t seed) {
  Plan plan;
  std::mt19937_64 random(seed);
  for (int i = 0; i < 20; ++i) {
    const std::string path =
        (i % 4 == 0 ? "shards/" : "") + std::string("file-") + std::to_string(i) + ".bin";
    const size_t size = random() % (256 * 1024);
    const bool changed = i % 3 == 0;
    plan.old_files.push_back({path, testing::RandomBytes(seed * 100 + i, size)});
    plan.new_files.push_back(
        changed ? testing::TestFile{path, testing::RandomBytes(seed * 100 + 50 + i, size + 7)}
                : plan.old_files.back());
    plan.changed.push_back(changed);
  }
  return plan;
}

// Stages what is not already verified (as a resumed fetch would), marking
// every other written file verified, so both Activate paths are exercised.
Status StageAndActivate(Store& store, const char* version,
                        const std::vector<testing::TestFile>& files,
                        const std::vector<bool>* changed) {
  Result<Staging> staging = store.BeginStaging(kModel, version);
  if (!staging) return staging.error();
  for (size_t i = 0; i < files.size(); ++i) {
    const FileEntry entry = files[i].entry();
    if (staging->IsVerified(entry)) continue;
    if (changed != nullptr && !(*changed)[i] && store.VersionPath(kModel, kOld).ok()) {
      if (Status s = staging->LinkFromVersion(kOld, entry); !s) return s;
      continue;
    }
    if (Status s = testing::WriteStaged(*staging, files[i]); !s) return s;
    if (i % 2 == 0) {
      if (Status s = staging->MarkVerified(entry); !s) return s;
    }
  }
  return store.Activate(std::move(*staging), testing::EntriesOf(files),
                        std::string("manifest ") + version, std::string("signature ") + version);
}

Status Run(const std::filesystem::path& root, uint64_t seed) {
  const Plan plan = MakePlan(seed);
  Result<Store> store = Store::Open(root);
  if (!store) return store.error();
  if (!store->VersionPath(kModel, kNew).ok()) {
    if (!store->VersionPath(kModel, kOld).ok()) {
      if (Status s = StageAndActivate(*store, kOld, plan.old_files, nullptr); !s) return s;
    }
    if (Status s = StageAndActivate(*store, kNew, plan.new_files, &plan.changed); !s) return s;
  }
  for (int i = 0; i < 3; ++i) {
    Result<std::string> back = store->Rollback(kModel);
    if (!back) return back.error();
    // Forward again the way an agent does it: activate the version it wants.
    if (Status s = StageAndActivate(*store, kNew, plan.new_files, &plan.changed); !s) return s;
  }
  return OkStatus();
}

}  // namespace
}  // namespace ferry::store

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: store_crash_helper ROOT SEED\n";
    return 2;
  }
  const ferry::Status status = ferry::store::Run(argv[1], std::stoull(argv[2]));
  if (!status) {
    std::cerr << "store_crash_helper: " << status.error().message << "\n";
    return 1;
  }
  return 0;
}
