// Crash safety of `ferryctl pull` under real SIGKILLs, through three versions
// and back on one store: 1.0.0 → 1.1.0 → 2.0.0 → 1.0.0 → … 2.0.0 (the gpt-a
// full fine-tune) is published into a copy of the fixture's repository with a
// delta from 1.1.0 only. Cycles alternate the default keep of 2, where 2.0.0 →
// 1.0.0 fetches full objects, and --keep 3, where every version stays held and
// the pulls back are switches to a held version; together the steps are
// deltas, full objects, and switches with and without a version to remove.
//
// The first step of each kind runs undisturbed and is timed; every later one
// is SIGKILLed once or twice at moments spread over that time (half anywhere,
// half late, where activation happens), then re-run to its end. A kill counts
// only if it landed: the pull died of the signal rather than exiting first.
// A first measurement on a busy machine can be long; a whole pull that exits
// before its kill bounds the time from above, and the spread shrinks to the
// shortest such bound, so that kills keep landing, late ones among them.
// After every landed kill `current` is the version before the step or its
// target and `verify --pubkey` passes; after every re-run the target is
// current and every version the store holds verifies, since each one is a
// rollback target. The test runs until kKills kills have landed.
// FERRY_CRASH_SEED=<seed> replays the kill moments of an earlier run (the
// moments, not the machine's timing, so a replay is close but not exact).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "tests/ctl/ferryctl_fixture.h"
#include "tests/support/paths.h"

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::microseconds;
using std::chrono::steady_clock;

constexpr int kKills = 100;
// A bound on the steps, so that kills that keep missing fail the test instead
// of running it forever; about a third of that is needed when kills land.
constexpr int kMaxSteps = 400;
constexpr std::array<const char*, 3> kCycle = {"1.0.0", "1.1.0", "2.0.0"};

struct KindCounts {
  microseconds undisturbed{0};
  microseconds spread{0};  // what kill moments are fractions of
  int steps = 0;
  int landed = 0;
  int found_old = 0;  // the kill left the version before the step current
  int found_new = 0;  // the kill came after the switch to the target
  int missed = 0;     // the pull exited before the signal was sent
};

class PullCrashTest : public FerryctlTest {
 protected:
  void SetUp() override {
    repo_ = CopyOfRepository();
    const fs::path input = scratch_ / "2.0.0";
    fs::create_directories(input);
    fs::copy_file(ModelPath("gpt-a-ft.safetensors"), input / "model.safetensors");
    fs::copy_file(Input("1.1.0") / "config.json", input / "config.json");
    fs::copy_file(Input("1.1.0") / "tokenizer.json", input / "tokenizer.json");
    ProcessResult published = Ferryctl(
        {"publish", "--repo", repo_.string(), "--model", "gpt-a", "--version", "2.0.0", "--key",
         (Keys() / "private.key").string(), "--delta-from", "1.1.0", input.string()});
    ASSERT_EQ(published.exit_code, 0) << published.err;
  }

  std::vector<std::string> PullArgv(const std::string& version, int keep) const {
    return {BinaryPath("ferryctl"),
            "pull",
            "--repo",
            repo_.string(),
            "--model",
            "gpt-a",
            "--version",
            version,
            "--store",
            store_.string(),
            "--pubkey",
            (Keys() / "public.key").string(),
            "--keep",
            std::to_string(keep),
            "--plain-progress"};
  }

  // `verify` of `version`, or of what the current link points to when empty.
  ProcessResult Verify(const std::string& version = "") const {
    std::vector<std::string> args = {"verify",
                                     "--store",
                                     store_.string(),
                                     "--model",
                                     "gpt-a",
                                     "--pubkey",
                                     (Keys() / "public.key").string()};
    if (!version.empty()) args.insert(args.end(), {"--version", version});
    return Ferryctl(args);
  }

  // The versions of gpt-a that `ls` lists, or a failure naming what ls said.
  std::vector<std::string> Held() const {
    ProcessResult listed = Ferryctl({"ls", "--store", store_.string(), "--json"});
    EXPECT_EQ(listed.exit_code, 0) << listed.err;
    std::vector<std::string> held;
    if (listed.exit_code != 0) return held;
    for (const auto& model : nlohmann::json::parse(listed.out)) {
      if (model["model"] != "gpt-a") continue;
      for (const auto& version : model["versions"]) held.push_back(version["version"]);
    }
    return held;
  }

  // What a pull of `to` has to do, from the versions the store holds and the
  // repository's deltas (1.1.0 from 1.0.0, 2.0.0 from 1.1.0).
  static std::string KindOfStep(const std::vector<std::string>& held, const std::string& from,
                                const std::string& to, int keep) {
    auto holds = [&](const std::string& v) { return std::ranges::find(held, v) != held.end(); };
    const std::string base = to == "1.1.0" ? "1.0.0" : to == "2.0.0" ? "1.1.0" : "";
    std::string kind = from + " → " + to + " ";
    if (holds(to)) {
      kind += "switch to held";
    } else if (!base.empty() && holds(base)) {
      kind += "delta from " + base;
    } else {
      kind += "full objects";
    }
    return kind + ", --keep " + std::to_string(keep);
  }

  fs::path repo_;
  fs::path store_ = scratch_ / "store";
};

uint32_t Seed() {
  if (const char* replay = std::getenv("FERRY_CRASH_SEED")) {
    return static_cast<uint32_t>(std::strtoul(replay, nullptr, 10));
  }
  return std::random_device{}();
}

TEST_F(PullCrashTest, SigkillsThroughThreeVersionsAndBackNeverBreakTheStore) {
  ProcessResult first = Pull(repo_, "1.0.0", store_);
  ASSERT_EQ(first.exit_code, 0) << first.err;

  const uint32_t seed = Seed();
  std::mt19937 random(seed);
  std::cout << "seed " << seed << " (FERRY_CRASH_SEED=" << seed << " replays it)" << std::endl;
  RecordProperty("seed", std::to_string(seed));
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::uniform_real_distribution<double> anywhere(0.0, 1.1), late(0.66, 1.05);
  std::uniform_int_distribution<int> kills_per_step(1, 2);

  const fs::path log = scratch_ / "pull.log";
  std::map<std::string, KindCounts> kinds;
  int landed = 0, sent = 0;
  for (int step = 0; landed < kKills; ++step) {
    ASSERT_LT(step, kMaxSteps) << "only " << landed << " of " << sent << " kills landed";
    const std::string from = kCycle[step % 3], to = kCycle[(step + 1) % 3];
    const int keep = (step / 3) % 2 == 0 ? 2 : 3;
    const std::string kind = KindOfStep(Held(), from, to, keep);
    SCOPED_TRACE("step " + std::to_string(step) + ": " + kind);
    ASSERT_EQ(CurrentVersion(store_), from);
    const std::vector<std::string> argv = PullArgv(to, keep);

    auto [entry, first_of_kind] = kinds.try_emplace(kind);
    KindCounts& counts = entry->second;
    ++counts.steps;
    if (first_of_kind) {
      const auto started = steady_clock::now();
      ProcessResult pulled = RunProcess(argv);
      counts.undisturbed = std::chrono::duration_cast<microseconds>(steady_clock::now() - started);
      ASSERT_EQ(pulled.exit_code, 0) << "undisturbed pull failed: " << pulled.err;
      counts.spread = counts.undisturbed;
      std::cout << "undisturbed " << kind << ": " << counts.undisturbed.count() / 1000 << " ms"
                << std::endl;
    } else {
      // A second kill hits a pull that resumes what the first one left.
      const int kills = kills_per_step(random);
      for (int kill = 0; kill < kills; ++kill) {
        const double at = (sent++ % 2 == 0 ? anywhere : late)(random);
        const auto delay =
            microseconds(static_cast<int64_t>(at * static_cast<double>(counts.spread.count())));
        fs::remove(log);
        int status = 0;
        {
          ChildProcess child(argv, log.string());
          std::this_thread::sleep_for(delay);
          child.Kill(SIGKILL);
          status = child.Wait();
        }
        const std::string current = CurrentVersion(store_);
        const std::string where = "kill " + std::to_string(sent) + " at " + std::to_string(at) +
                                  " of " + std::to_string(counts.spread.count()) + " us";
        // Only a process still running dies of the signal; one that had
        // already exited (a zombie until our waitpid) keeps its own status.
        if (status != 128 + SIGKILL) {
          ASSERT_EQ(status, 0) << where << ": the pull failed before the kill:\n" << ReadFile(log);
          ASSERT_EQ(current, to) << where << ": the pull exited 0 before the kill";
          ++counts.missed;
          // Only a first kill meets a whole pull; a resumed one is shorter.
          if (kill == 0) counts.spread = std::min(counts.spread, delay);
          break;
        }
        ++landed;
        ++counts.landed;
        ASSERT_TRUE(current == from || current == to)
            << where << " left current = '" << current << "'; its output:\n"
            << ReadFile(log);
        ++(current == from ? counts.found_old : counts.found_new);
        ProcessResult verified = Verify();
        ASSERT_EQ(verified.exit_code, 0) << where << ": verify of " << current
                                         << " failed: " << verified.err << "\nthe pull's output:\n"
                                         << ReadFile(log);
        if (current == to) break;  // what is left is recovery, which the re-run does
      }
      ProcessResult rerun = RunProcess(argv);
      ASSERT_EQ(rerun.exit_code, 0) << "re-run after the kills failed: " << rerun.err;
    }
    ASSERT_EQ(CurrentVersion(store_), to);
    const std::vector<std::string> held = Held();
    ASSERT_LE(held.size(), static_cast<size_t>(keep)) << "more versions kept than --keep";
    for (const std::string& version : held) {
      ProcessResult verified = Verify(version);
      ASSERT_EQ(verified.exit_code, 0) << "held " << version << ": " << verified.err;
    }
  }

  int found_old = 0, found_new = 0, missed = 0;
  for (const auto& [kind, counts] : kinds) {
    std::cout << "  " << kind << ": " << counts.steps << " steps, undisturbed "
              << counts.undisturbed.count() / 1000 << " ms, spread at the end "
              << counts.spread.count() / 1000 << " ms; kills landed " << counts.landed
              << " (old current " << counts.found_old << ", new " << counts.found_new
              << "), missed " << counts.missed << "\n";
    found_old += counts.found_old;
    found_new += counts.found_new;
    missed += counts.missed;
    // The first step of the first cycle is the one kind that never comes back.
    if (counts.steps > 1) {
      EXPECT_GT(counts.landed, 0) << "no kill landed in a pull of " << kind;
    }
  }
  std::cout << "seed " << seed << ": " << landed << " kills landed (" << found_old
            << " found the old version current, " << found_new << " the new), " << missed
            << " missed (the pull had exited)" << std::endl;
  EXPECT_GT(found_old, 0) << "no kill landed before activation";
  auto covered = [&](const std::string& what) {
    return std::ranges::any_of(kinds, [&](const auto& k) {
      return k.first.find(what) != std::string::npos && k.second.landed > 0;
    });
  };
  EXPECT_TRUE(covered("delta from")) << "no kill landed in a delta pull";
  EXPECT_TRUE(covered("full objects")) << "no kill landed in a full-object pull";
  EXPECT_TRUE(covered("switch to held")) << "no kill landed in a switch to a held version";
}

}  // namespace
}  // namespace ferry::testing
