// Leader election between real processes (tests/lib/kube/leader_helper, each a
// stand-in for one controller replica) through a Lease on the real local API
// server: exactly one replica reconciles at any time; a SIGKILLed leader is
// replaced once its Lease expires; a leader stopped with SIGTERM releases the
// Lease and its successor takes over at once.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "lib/kube/leader_election.h"
#include "tests/lib/kube/cluster_client.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace ferry::kube {
namespace {

using std::chrono::milliseconds;

constexpr int kLeaseMs = 3000;
constexpr int kRenewMs = 2000;
constexpr int kRetryMs = 500;

struct Interval {
  std::string identity;
  int64_t start = 0;
  int64_t end = 0;
};

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class LeaderElectionTest : public ClusterTest {
 protected:
  std::unique_ptr<testing::ChildProcess> StartReplica(const std::string& identity) {
    return std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{HelperPath(), "--kubeconfig", testing::ClusterKubeconfig(),
                                 "--namespace", namespace_, "--lease", "ferry-operator",
                                 "--identity", identity, "--log", log_path(), "--lease-ms",
                                 std::to_string(kLeaseMs), "--renew-ms", std::to_string(kRenewMs),
                                 "--retry-ms", std::to_string(kRetryMs)},
        (dir_ / (identity + ".log")).string());
  }

  static std::string HelperPath() { return FERRY_LEADER_HELPER; }
  std::string log_path() const { return (dir_ / "reconciles").string(); }

  std::vector<Interval> Reconciles() const {
    std::vector<Interval> intervals;
    std::ifstream log(log_path());
    std::string kind;
    for (std::string line; std::getline(log, line);) {
      std::istringstream fields(line);
      Interval interval;
      if (fields >> kind >> interval.identity >> interval.start >> interval.end &&
          kind == "reconcile") {
        intervals.push_back(interval);
      }
    }
    return intervals;
  }

  // Identities that have reconciled, in the order they first did.
  std::vector<std::string> Leaders() const {
    std::vector<std::string> leaders;
    for (const Interval& interval : Reconciles()) {
      if (leaders.empty() || leaders.back() != interval.identity)
        leaders.push_back(interval.identity);
    }
    return leaders;
  }

  // No reconcile of one replica overlaps in time with one of another.
  void ExpectNoOverlap() const {
    const std::vector<Interval> all = Reconciles();
    for (size_t i = 0; i < all.size(); ++i) {
      for (size_t j = i + 1; j < all.size(); ++j) {
        if (all[i].identity == all[j].identity) continue;
        const bool overlap = all[i].start < all[j].end && all[j].start < all[i].end;
        EXPECT_FALSE(overlap) << all[i].identity << " and " << all[j].identity
                              << " reconciled at the same time";
      }
    }
  }

  testing::TempDir dir_;
};

TEST_F(LeaderElectionTest, ExactlyOneLeadsAndAKilledLeaderIsReplacedWithinTheLease) {
  auto a = StartReplica("replica-a");
  auto b = StartReplica("replica-b");
  ASSERT_TRUE(Eventually([&] { return !Leaders().empty(); })) << "nobody became leader";
  std::this_thread::sleep_for(milliseconds(3 * kLeaseMs));  // several lease periods of contention
  std::vector<std::string> leaders = Leaders();
  ASSERT_EQ(leaders.size(), 1u) << "leadership changed hands while the leader was healthy";
  const std::string first = leaders[0];
  auto& leader = first == "replica-a" ? a : b;
  const std::string second = first == "replica-a" ? "replica-b" : "replica-a";

  const int64_t killed_at = NowNanos();
  leader->Kill(SIGKILL);
  leader->Wait();
  ASSERT_TRUE(Eventually([&] { return Leaders().size() == 2; }, std::chrono::seconds(20)))
      << second << " never took over";
  leaders = Leaders();
  EXPECT_EQ(leaders[1], second);
  int64_t took_over_at = 0;
  for (const Interval& interval : Reconciles()) {
    if (interval.identity == second) {
      took_over_at = interval.start;
      break;
    }
  }
  const double handover_ms = static_cast<double>(took_over_at - killed_at) / 1e6;
  std::printf("handover after SIGKILL: %.0f ms (lease %d ms, retry %d ms)\n", handover_ms, kLeaseMs,
              kRetryMs);
  // The successor watches the Lease, so it counts the lease duration from the
  // dead leader's last renewal, which came before the kill: the handover is
  // within the lease duration, give or take a loaded machine's scheduling.
  EXPECT_GT(handover_ms, 0);
  EXPECT_LT(handover_ms, kLeaseMs + 500);
  ExpectNoOverlap();
}

TEST_F(LeaderElectionTest, ALeaderStoppedGracefullyReleasesTheLeaseAtOnce) {
  auto a = StartReplica("replica-a");
  ASSERT_TRUE(Eventually([&] { return Leaders().size() == 1; }));
  auto b = StartReplica("replica-b");
  std::this_thread::sleep_for(milliseconds(kLeaseMs));
  ASSERT_EQ(Leaders(), std::vector<std::string>{"replica-a"});

  const int64_t stopped_at = NowNanos();
  a->Kill(SIGTERM);
  EXPECT_EQ(a->Wait(), 0);
  ASSERT_TRUE(Eventually([&] { return Leaders().size() == 2; }, std::chrono::seconds(20)));
  int64_t took_over_at = 0;
  for (const Interval& interval : Reconciles()) {
    if (interval.identity == "replica-b") {
      took_over_at = interval.start;
      break;
    }
  }
  const double handover_ms = static_cast<double>(took_over_at - stopped_at) / 1e6;
  std::printf("handover after SIGTERM: %.0f ms (lease %d ms)\n", handover_ms, kLeaseMs);
  // Released, not expired: the successor sees the release and tries at once.
  EXPECT_LT(handover_ms, kLeaseMs);
  ExpectNoOverlap();

  Result<Json> lease = client_->Get(types::Leases(), namespace_, "ferry-operator");
  ASSERT_TRUE(lease) << lease.error().message;
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "replica-b");
  EXPECT_EQ((*lease)["spec"]["leaseTransitions"], 1);
}

TEST(LeaderElectorOptions, RefusesTimingsThatCouldMakeTwoLeaders) {
  std::unique_ptr<Client> client = NewClusterClient();
  ASSERT_NE(client, nullptr);
  auto refused = LeaderElector::Create(*client, {.lease_namespace = "default",
                                                 .lease_name = "x",
                                                 .identity = "me",
                                                 .lease_duration = milliseconds(2000),
                                                 .renew_deadline = milliseconds(3000),
                                                 .retry_period = milliseconds(500)});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("renew deadline < lease duration"), std::string::npos);
}

}  // namespace
}  // namespace ferry::kube
