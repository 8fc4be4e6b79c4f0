#include "lib/kube/controller.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "lib/kube/controller_metrics.h"

namespace ferry::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Far above what a loaded machine needs: it only stops a broken controller
// from hanging the test.
constexpr milliseconds kGenerous(5000);

template <typename Predicate>
bool WaitUntil(Predicate done) {
  const auto deadline = steady_clock::now() + kGenerous;
  while (!done()) {
    if (steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

ControllerOptions Options(int workers, milliseconds retry_base = milliseconds(5)) {
  ControllerOptions options;
  options.name = "test";
  options.workers = workers;
  options.rate_limiter = std::make_unique<ItemExponentialLimiter>(retry_base, milliseconds(10'000));
  return options;
}

// Start times of each reconcile, for checking the gaps between them.
class Timeline {
 public:
  size_t Record() {
    std::lock_guard lock(mu_);
    times_.push_back(steady_clock::now());
    return times_.size();
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return times_.size();
  }
  steady_clock::duration Gap(size_t i) const {  // between the i-th and (i+1)-th, from 0
    std::lock_guard lock(mu_);
    return times_.at(i + 1) - times_.at(i);
  }

 private:
  mutable std::mutex mu_;
  std::vector<steady_clock::time_point> times_;
};

TEST(Controller, RetriesAFailingKeyWithGrowingDelaysUntilItSucceeds) {
  Timeline timeline;
  Controller controller(Options(2, milliseconds(20)), [&](const std::string&) -> Result<Action> {
    if (timeline.Record() <= 3) return MakeError(ErrorCode::kUnavailable, "not yet");
    return Action::Done();
  });
  controller.Enqueue("ns/a");
  controller.Start();
  ASSERT_TRUE(WaitUntil([&] { return controller.Stats().reconciles == 4; }));
  // Each retry waits at least the limiter's delay: 20, 40, then 80 ms.
  EXPECT_GE(timeline.Gap(0), milliseconds(20));
  EXPECT_GE(timeline.Gap(1), milliseconds(40));
  EXPECT_GE(timeline.Gap(2), milliseconds(80));
  // Success settles the key: nothing runs again on its own.
  std::this_thread::sleep_for(milliseconds(100));
  controller.Stop();
  const ControllerStats stats = controller.Stats();
  EXPECT_EQ(stats.reconciles, 4u);
  EXPECT_EQ(stats.errors, 3u);
  EXPECT_EQ(stats.requeues, 0u);
}

// Records what the controller tells its limiter, and asks for short delays.
class RecordingLimiter final : public ItemRateLimiter {
 public:
  milliseconds When(const std::string& key) override {
    std::lock_guard lock(mu_);
    events_.push_back("when " + key);
    return milliseconds(1);
  }
  void Forget(const std::string& key) override {
    std::lock_guard lock(mu_);
    events_.push_back("forget " + key);
  }
  int Failures(const std::string&) const override { return 0; }
  std::vector<std::string> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> events_;
};

TEST(Controller, ErrorsAreRateLimitedAndOtherOutcomesForgetTheFailures) {
  auto limiter = std::make_unique<RecordingLimiter>();
  const RecordingLimiter* recorded =
      limiter.get();  // owned by the controller, which outlives its use
  ControllerOptions options = Options(1);
  options.rate_limiter = std::move(limiter);
  std::atomic<int> calls{0};
  Controller controller(std::move(options), [&](const std::string&) -> Result<Action> {
    switch (++calls) {
      case 1:
        return MakeError(ErrorCode::kUnavailable, "no");
      case 2:
        return Action::RequeueAfter(milliseconds(1));
      default:
        return Action::Done();
    }
  });
  controller.Enqueue("a");
  controller.Start();
  ASSERT_TRUE(WaitUntil([&] { return controller.Stats().reconciles == 3; }));
  controller.Stop();
  EXPECT_EQ(recorded->events(), (std::vector<std::string>{"when a", "forget a", "forget a"}));
  const ControllerStats stats = controller.Stats();
  EXPECT_EQ(stats.errors, 1u);
  EXPECT_EQ(stats.requeues, 1u);
}

TEST(Controller, RequeueAfterRunsTheKeyAgainAfterTheDelay) {
  Timeline timeline;
  Controller controller(Options(2), [&](const std::string&) -> Result<Action> {
    if (timeline.Record() == 1) return Action::RequeueAfter(milliseconds(80));
    return Action::Done();
  });
  controller.Enqueue("a");
  controller.Start();
  ASSERT_TRUE(WaitUntil([&] { return controller.Stats().reconciles == 2; }));
  EXPECT_GE(timeline.Gap(0), milliseconds(80));
  EXPECT_LT(timeline.Gap(0), kGenerous);
  controller.Stop();
  const ControllerStats stats = controller.Stats();
  EXPECT_EQ(stats.reconciles, 2u);
  EXPECT_EQ(stats.requeues, 1u);
  EXPECT_EQ(stats.errors, 0u);
}

TEST(Controller, ReportsOutcomesAndDurationsToItsMetrics) {
  MetricsRegistry registry;
  ControllerMetrics metrics(registry);
  ControllerOptions options = Options(1);
  options.name = "counted";
  options.metrics = &metrics;
  std::atomic<int> calls{0};
  Controller controller(std::move(options), [&](const std::string&) -> Result<Action> {
    const int call = ++calls;
    if (call == 1) return MakeError(ErrorCode::kUnavailable, "not yet");
    if (call == 2) return Action::RequeueAfter(milliseconds(1));
    return Action::Done();
  });
  controller.Enqueue("a");
  controller.Start();
  ASSERT_TRUE(WaitUntil([&] { return controller.Stats().reconciles == 3; }));
  controller.Stop();
  const std::string text = registry.Render();
  for (const char* result : {"error", "requeue", "success"}) {
    EXPECT_NE(text.find("ferry_controller_reconcile_total{controller=\"counted\",result=\"" +
                        std::string(result) + "\"} 1\n"),
              std::string::npos)
        << result << " in\n"
        << text;
  }
  EXPECT_NE(
      text.find("ferry_controller_reconcile_duration_seconds_count{controller=\"counted\"} 3\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("ferry_controller_queue_depth{controller=\"counted\"} 0\n"),
            std::string::npos)
      << text;
}

TEST(Controller, EnqueueAfterWaitsBeforeTheFirstReconcile) {
  std::promise<steady_clock::time_point> ran;
  Controller controller(Options(1), [&](const std::string&) -> Result<Action> {
    ran.set_value(steady_clock::now());
    return Action::Done();
  });
  controller.Start();
  const auto start = steady_clock::now();
  controller.EnqueueAfter("a", milliseconds(60));
  std::future<steady_clock::time_point> when = ran.get_future();
  ASSERT_EQ(when.wait_for(kGenerous), std::future_status::ready);
  EXPECT_GE(when.get() - start, milliseconds(60));
}

TEST(Controller, KeysEnqueuedBeforeStartRunAfterIt) {
  std::atomic<int> calls{0};
  Controller controller(Options(2), [&](const std::string&) -> Result<Action> {
    ++calls;
    return Action::Done();
  });
  controller.Enqueue("a");
  controller.Enqueue("b");
  controller.Enqueue("a");  // de-duplicated
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(calls.load(), 0);
  controller.Start();
  ASSERT_TRUE(WaitUntil([&] { return calls == 2; }));
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(calls.load(), 2);
}

TEST(Controller, StopWaitsForTheRunningReconcileAndStartsNoMore) {
  std::promise<void> entered;
  std::atomic<bool> finished{false};
  std::atomic<bool> stop_returned{false};
  std::atomic<int> started_after_stop{0};
  Controller controller(Options(1), [&](const std::string& key) -> Result<Action> {
    if (stop_returned) ++started_after_stop;
    if (key == "slow") {
      entered.set_value();
      std::this_thread::sleep_for(milliseconds(150));
      finished = true;
    }
    return Action::Done();
  });
  controller.Enqueue("slow");
  for (int i = 0; i < 20; ++i) controller.Enqueue("backlog-" + std::to_string(i));
  controller.Start();
  ASSERT_EQ(entered.get_future().wait_for(kGenerous), std::future_status::ready);
  controller.Stop();
  stop_returned = true;
  EXPECT_TRUE(finished.load());                  // Stop did not return while "slow" was running
  EXPECT_EQ(controller.Stats().reconciles, 1u);  // the backlog was dropped, not run

  controller.Enqueue("late");
  controller.EnqueueAfter("later", milliseconds(1));
  controller.Start();  // a stopped controller does not come back
  std::this_thread::sleep_for(milliseconds(30));
  EXPECT_EQ(started_after_stop.load(), 0);
  EXPECT_EQ(controller.Stats().reconciles, 1u);
  controller.Stop();  // idempotent
}

TEST(Controller, StopWithoutStartAndDestructionAreSafe) {
  Controller never_started(Options(2),
                           [](const std::string&) -> Result<Action> { return Action::Done(); });
  never_started.Enqueue("a");
  never_started.Stop();
  never_started.Stop();
  EXPECT_EQ(never_started.Stats().reconciles, 0u);

  // The destructor stops a running controller.
  auto running = std::make_unique<Controller>(
      Options(2), [](const std::string&) -> Result<Action> { return Action::Done(); });
  running->Start();
  running->Enqueue("a");
  running.reset();
}

TEST(Controller, AnEscapingExceptionIsLoggedAndRetriedAsAnError) {
  std::ostringstream log_text;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text);
  ControllerOptions options = Options(1);
  options.logger = std::make_shared<spdlog::logger>("test", sink);
  options.logger->set_pattern("%l %v");
  std::atomic<int> calls{0};
  Controller controller(std::move(options), [&](const std::string&) -> Result<Action> {
    if (++calls == 1) throw std::runtime_error("boom");
    return Action::Done();
  });
  controller.Enqueue("ns/a");
  controller.Start();
  ASSERT_TRUE(WaitUntil([&] { return controller.Stats().reconciles == 2; }));
  controller.Stop();
  const ControllerStats stats = controller.Stats();
  EXPECT_EQ(stats.errors, 1u);
  EXPECT_EQ(calls.load(), 2);
  const std::string text = log_text.str();
  EXPECT_NE(text.find("error test: reconcile ns/a threw"), std::string::npos) << text;
  EXPECT_NE(text.find("boom"), std::string::npos) << text;
}

TEST(Controller, LogsReconcileErrorsWithTheKey) {
  std::ostringstream log_text;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text);
  ControllerOptions options = Options(1);
  options.logger = std::make_shared<spdlog::logger>("test", sink);
  options.logger->set_pattern("%l %v");
  std::atomic<int> calls{0};
  Controller controller(std::move(options), [&](const std::string&) -> Result<Action> {
    if (++calls == 1) return MakeError(ErrorCode::kConflict, "object was modified");
    return Action::Done();
  });
  controller.Enqueue("ns/a");
  controller.Start();
  ASSERT_TRUE(WaitUntil([&] { return calls == 2; }));
  controller.Stop();
  const std::string text = log_text.str();
  EXPECT_NE(text.find("warning test: reconcile ns/a failed (retry 1): object was modified"),
            std::string::npos)
      << text;
}

// Many keys, many enqueues, four workers: one key is never in two reconciles at once.
TEST(Controller, NeverReconcilesOneKeyOnTwoWorkersAtOnce) {
  constexpr int kKeys = 8;
  std::vector<std::atomic<bool>> in_flight(kKeys);
  std::atomic<int> overlaps{0};
  Controller controller(Options(4), [&](const std::string& key) -> Result<Action> {
    const int k = std::stoi(key);
    if (in_flight[k].exchange(true)) ++overlaps;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    in_flight[k] = false;
    return Action::Done();
  });
  controller.Start();
  for (int round = 0; round < 300; ++round) {
    for (int k = 0; k < kKeys; ++k) controller.Enqueue(std::to_string(k));
    if (round % 30 == 0) std::this_thread::sleep_for(milliseconds(1));
  }
  ASSERT_TRUE(WaitUntil([&] { return controller.Stats().reconciles >= kKeys; }));
  controller.Stop();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(controller.Stats().errors, 0u);
}

}  // namespace
}  // namespace ferry::kube
