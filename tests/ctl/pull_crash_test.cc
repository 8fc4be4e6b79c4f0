// Crash safety of `ferryctl pull` with real SIGKILLs: the process is killed at
// random moments through staging and activation of gpt-a 1.0.0 → 1.1.0. After
// every kill the store's current version must be 1.0.0 or 1.1.0 and verify, and
// a re-run must reach 1.1.0.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>

#include "tests/ctl/ferryctl_fixture.h"
#include "tests/support/paths.h"

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::steady_clock;

constexpr int kKills = 60;

TEST_F(FerryctlTest, SigkillAtRandomMomentsNeverBreaksTheStore) {
  const fs::path base_store = StoreWithFirstVersion();
  const std::vector<std::string> pull = {BinaryPath("ferryctl"),
                                         "pull",
                                         "--repo",
                                         Repository().string(),
                                         "--model",
                                         "gpt-a",
                                         "--version",
                                         "1.1.0",
                                         "--store",
                                         "",
                                         "--pubkey",
                                         (Keys() / "public.key").string(),
                                         "--plain-progress"};
  auto pull_into = [&](const fs::path& store) {
    std::vector<std::string> argv = pull;
    argv[9] = store.string();
    return argv;
  };

  // How long an undisturbed pull takes here, to spread the kills over it.
  const fs::path timing = scratch_ / "timing";
  ASSERT_EQ(RunProcess({"cp", "-a", base_store.string(), timing.string()}).exit_code, 0);
  const auto started = steady_clock::now();
  ASSERT_EQ(RunProcess(pull_into(timing)).exit_code, 0);
  const auto full =
      std::chrono::duration_cast<std::chrono::microseconds>(steady_clock::now() - started);
  fs::remove_all(timing);

  const uint32_t seed = std::random_device{}();
  std::mt19937 random(seed);
  SCOPED_TRACE("seed " + std::to_string(seed) + ", full pull " + std::to_string(full.count()) +
               " us");
  // Half the kills anywhere in the run, half in its last third, where activation happens.
  std::uniform_real_distribution<double> anywhere(0.0, 1.1), late(0.66, 1.05);
  int ended_old = 0, ended_new = 0;
  for (int i = 0; i < kKills; ++i) {
    const fs::path store = scratch_ / ("store-" + std::to_string(i));
    ASSERT_EQ(RunProcess({"cp", "-a", base_store.string(), store.string()}).exit_code, 0);
    const double at = (i % 2 == 0 ? anywhere : late)(random);
    {
      ChildProcess child(pull_into(store), (scratch_ / "pull.log").string());
      std::this_thread::sleep_for(
          std::chrono::microseconds(static_cast<int64_t>(at * full.count())));
      child.Kill(SIGKILL);
      child.Wait();
    }
    const std::string current = CurrentVersion(store);
    ASSERT_TRUE(current == "1.0.0" || current == "1.1.0")
        << "kill " << i << " at " << at << " of a pull left current = '" << current << "'";
    (current == "1.0.0" ? ended_old : ended_new)++;
    ProcessResult verified = Ferryctl({"verify", "--store", store.string(), "--model", "gpt-a"});
    ASSERT_EQ(verified.exit_code, 0) << "kill " << i << " at " << at << ": " << verified.err;

    ProcessResult rerun = RunProcess(pull_into(store));
    ASSERT_EQ(rerun.exit_code, 0) << "kill " << i << ": re-run failed: " << rerun.err;
    ASSERT_EQ(CurrentVersion(store), "1.1.0");
    ASSERT_EQ(Ferryctl({"verify", "--store", store.string(), "--model", "gpt-a"}).exit_code, 0);
    fs::remove_all(store);
  }
  std::cout << "kills leaving 1.0.0 current: " << ended_old << ", leaving 1.1.0: " << ended_new
            << "\n";
  EXPECT_GT(ended_old, 0) << "no kill landed before activation";
}

}  // namespace
}  // namespace ferry::testing
