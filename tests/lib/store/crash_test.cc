// Crash safety with real SIGKILLs: store_crash_helper is killed at random
// moments spread over its whole run (staging, activation, rollback, garbage
// collection, and the recovery of an earlier kill). After each kill the
// current version must verify, recovery must leave nothing in flight, and a
// rerun must reach 2.0.0.
// Reproduce a failure with FERRY_CRASH_SEED=<the seed it printed>.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "lib/store/store.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace ferry::store {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kKills = 60;       // kills that must land while the helper runs
constexpr int kMaxRounds = 200;  // gives up if most kills come after it finished

std::vector<std::string> HelperArgs(const fs::path& root, uint64_t seed) {
  return {FERRY_STORE_CRASH_HELPER, root.string(), std::to_string(seed)};
}

// Starts the helper, kills it with SIGKILL after `delay`, and reaps it.
// Returns whether it was still running when the signal was sent.
bool RunAndKill(const std::vector<std::string>& args, std::chrono::microseconds delay) {
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), nullptr) != 0) {
    ADD_FAILURE() << "cannot start " << args[0];
    return false;
  }
  std::this_thread::sleep_for(delay);
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  if (!killed) {
    EXPECT_EQ(WEXITSTATUS(status), 0) << "the helper failed before it was killed";
  }
  return killed;
}

// What must hold at every instant, whatever the helper was doing when killed:
// the current version, if any, is complete. Checked before any recovery.
void ExpectCurrentVerifies(const fs::path& root) {
  Result<Store> store = Store::Open(root);
  ASSERT_TRUE(store.ok()) << store.error().message;
  if (!fs::exists(root / "crash")) return;  // killed before it made the model
  Result<ModelInfo> info = store->Describe("crash");
  ASSERT_TRUE(info.ok()) << info.error().message;
  if (info->current) {
    Status verified = store->Verify("crash");
    EXPECT_TRUE(verified.ok()) << "before recovery: " << verified.error().message;
  }
}

// After recovery nothing is in flight, and every version kept verifies.
void ExpectRecovered(const fs::path& root) {
  if (!fs::exists(root / "crash")) return;
  Result<Store> store = Store::Open(root);
  ASSERT_TRUE(store.ok()) << store.error().message;
  Status recovered = store->Recover("crash");
  ASSERT_TRUE(recovered.ok()) << recovered.error().message;
  Result<ModelInfo> info = store->Describe("crash");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_FALSE(fs::exists(root / "crash" / "journal"));
  EXPECT_FALSE(fs::exists(root / "crash" / "trash"));
  if (!info->current) {
    EXPECT_TRUE(info->versions.empty()) << "versions on disk but none is current";
  }
  for (const VersionInfo& version : info->versions) {
    Status verified = store->Verify("crash", version.version);
    EXPECT_TRUE(verified.ok()) << "after recovery: " << verified.error().message;
  }
  EXPECT_LE(info->versions.size(), 2u);
}

// Runs the helper to completion and checks where it left the model.
std::chrono::microseconds ExpectCompleteRun(const fs::path& root, uint64_t seed) {
  const Clock::time_point start = Clock::now();
  const ferry::testing::ProcessResult run = ferry::testing::RunProcess(HelperArgs(root, seed));
  const auto took = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  Result<Store> store = Store::Open(root);
  EXPECT_TRUE(store.ok());
  if (!store.ok()) return took;
  Result<ModelInfo> info = store->Describe("crash");
  EXPECT_TRUE(info.ok()) << (info.ok() ? "" : info.error().message);
  if (!info.ok()) return took;
  EXPECT_EQ(info->current, "2.0.0");
  EXPECT_EQ(info->versions.size(), 2u);
  EXPECT_TRUE(store->Verify("crash").ok());
  EXPECT_TRUE(store->Verify("crash", "1.0.0").ok());
  return took;
}

TEST(StoreCrashTest, SigkillAtAnyMomentLeavesAVerifiableCurrentVersion) {
  const char* fixed = std::getenv("FERRY_CRASH_SEED");
  const uint64_t seed = fixed != nullptr ? std::stoull(fixed) : std::random_device()();
  SCOPED_TRACE("FERRY_CRASH_SEED=" + std::to_string(seed));
  std::mt19937_64 random(seed);

  // Undisturbed runs tell how long the whole workload takes on this machine;
  // the median shrugs off one slowed by a busy disk.
  std::vector<std::chrono::microseconds> runs;
  for (int i = 0; i < 3; ++i) {
    ferry::testing::TempDir dir;
    runs.push_back(ExpectCompleteRun(dir / "store", seed + i));
  }
  ASSERT_FALSE(HasFailure());
  std::ranges::sort(runs);
  const std::chrono::microseconds whole_run = runs[1];

  // Each round kills a fresh run, then kills the rerun that resumes it (which
  // may die inside its own recovery), then recovers and completes. A kill that
  // comes after the helper finished does not count toward kKills.
  int landed = 0;
  int rounds = 0;
  for (; landed < kKills && rounds < kMaxRounds && !HasFailure(); ++rounds) {
    ferry::testing::TempDir dir;
    const fs::path root = dir / "store";
    const uint64_t content_seed = random();
    for (int kill = 0; kill < 2; ++kill) {
      const std::chrono::microseconds delay(random() % (whole_run.count() + 1));
      SCOPED_TRACE("round " + std::to_string(rounds) + ", kill " + std::to_string(kill) +
                   " after " + std::to_string(delay.count()) + " us of " +
                   std::to_string(whole_run.count()));
      if (RunAndKill(HelperArgs(root, content_seed), delay)) ++landed;
      ASSERT_NO_FATAL_FAILURE(ExpectCurrentVerifies(root));
    }
    ASSERT_NO_FATAL_FAILURE(ExpectRecovered(root));
    ExpectCompleteRun(root, content_seed);
  }
  std::cout << landed << " SIGKILLs landed mid-run in " << rounds << " rounds (seed " << seed
            << ", a whole run takes " << whole_run.count() << " us)\n";
  EXPECT_GE(landed, kKills);
}

}  // namespace
}  // namespace ferry::store
