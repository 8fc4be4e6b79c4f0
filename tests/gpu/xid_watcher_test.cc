// The XID watcher against the stand-in libnvidia-ml.so.1: events delivered
// through the NVML event set reach the store and the health rules, GPUs or
// drivers that cannot deliver them are reported, a failing wait is kept as
// an error, and the thread stops promptly and goes away.
#include "lib/gpu/xid_watcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <thread>

#include "lib/gpu/gpu_report.h"
#include "tests/gpu/stand_in_script.h"

namespace ferry::gpu {
namespace {

using ::ferry::testing::HealthyGpu;
using ::ferry::testing::StandInScript;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Json = nlohmann::json;
using std::chrono::milliseconds;

constexpr milliseconds kShortWait{20};

long Threads() {
  return std::distance(std::filesystem::directory_iterator("/proc/self/task"),
                       std::filesystem::directory_iterator());
}

// Polls `done` for up to five seconds.
bool Eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return done();
}

std::unique_ptr<Nvml> Open(const char* library = FERRY_STAND_IN_NVML) {
  Result<std::unique_ptr<Nvml>> nvml = Nvml::Open(library);
  if (!nvml.ok()) ADD_FAILURE() << nvml.error().message;
  return nvml.ok() ? std::move(nvml).value() : nullptr;
}

Json TwoGpus(const Json& events) {
  return {{"gpus", {HealthyGpu(0), HealthyGpu(1)}}, {"events", events}};
}

TEST(StandInNvmlXidWatcher, CriticalXidThroughTheEventSetMakesTheGpuUnhealthy) {
  StandInScript script(TwoGpus(Json::array({{{"gpu", 1}, {"xid", 79}, {"afterMs", 50}}})));
  std::unique_ptr<Nvml> nvml = Open();
  ASSERT_TRUE(nvml);
  XidStore store;
  XidWatcher watcher(*nvml, store, kShortWait);
  EXPECT_TRUE(watcher.status().running);
  EXPECT_THAT(watcher.status().watched_gpus, ElementsAre(0u, 1u));
  ASSERT_TRUE(Eventually([&] { return store.recorded() == 1; }));
  const std::vector<XidEvent> events = store.EventsAfter(0);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].gpu_index, 1u);
  EXPECT_EQ(events[0].xid, 79u);

  const NodeGpuReport report = BuildReport(ReadNode(*nvml), HealthRules{}, &store, &watcher);
  ASSERT_EQ(report.gpus.size(), 2u);
  EXPECT_TRUE(report.gpus[0].health.healthy);
  EXPECT_THAT(report.gpus[0].xid_critical, IsEmpty());
  EXPECT_FALSE(report.gpus[1].health.healthy);
  EXPECT_THAT(report.gpus[1].xid_critical, ElementsAre(79u));
  EXPECT_THAT(report.gpus[1].health.reasons, ElementsAre("critical XID 79 (GPU fell off the bus)"));
  EXPECT_EQ(report.xid_events_recorded, 1u);
}

TEST(StandInNvmlXidWatcher, ApplicationXidIsRecordedButTheGpuStaysHealthy) {
  StandInScript script(TwoGpus(Json::array(
      {{{"gpu", 0}, {"xid", 13}, {"afterMs", 10}}, {{"gpu", 0}, {"xid", 43}, {"afterMs", 20}}})));
  std::unique_ptr<Nvml> nvml = Open();
  ASSERT_TRUE(nvml);
  XidStore store;
  XidWatcher watcher(*nvml, store, kShortWait);
  ASSERT_TRUE(Eventually([&] { return store.recorded() == 2; }));
  const NodeGpuReport report = BuildReport(ReadNode(*nvml), HealthRules{}, &store, &watcher);
  ASSERT_EQ(report.gpus.size(), 2u);
  EXPECT_TRUE(report.gpus[0].health.healthy);
  EXPECT_THAT(report.gpus[0].health.reasons, IsEmpty());
  EXPECT_THAT(report.gpus[0].xid_application, ElementsAre(13u, 43u));
  EXPECT_THAT(report.gpus[0].xid_critical, IsEmpty());
  EXPECT_TRUE(report.healthy());
}

TEST(StandInNvmlXidWatcher, ManyEventsNoneMissed) {
  Json events = Json::array();
  for (int i = 0; i < 300; ++i) events.push_back({{"gpu", i % 2}, {"xid", 31}, {"afterMs", i}});
  StandInScript script(TwoGpus(events));
  std::unique_ptr<Nvml> nvml = Open();
  ASSERT_TRUE(nvml);
  XidStore store;
  XidWatcher watcher(*nvml, store, kShortWait);
  ASSERT_TRUE(Eventually([&] { return store.recorded() == 300; })) << store.recorded();
  EXPECT_EQ(store.CountsFor(0).at(31), 150u);
  EXPECT_EQ(store.CountsFor(1).at(31), 150u);
}

TEST(StandInNvmlXidWatcher, StopsPromptlyAndLeavesNoThread) {
  StandInScript script(TwoGpus(Json::array()));
  std::unique_ptr<Nvml> nvml = Open();
  ASSERT_TRUE(nvml);
  const long before = Threads();
  XidStore store;
  std::chrono::steady_clock::duration took{};
  {
    XidWatcher watcher(*nvml, store, milliseconds(200));
    EXPECT_EQ(Threads(), before + 1);
    std::this_thread::sleep_for(milliseconds(50));  // inside a wait
    const auto started = std::chrono::steady_clock::now();
    watcher.Stop();
    took = std::chrono::steady_clock::now() - started;
    EXPECT_FALSE(watcher.status().running);
    EXPECT_EQ(watcher.status().error, std::nullopt);
  }
  EXPECT_LT(took, milliseconds(600));
  EXPECT_EQ(Threads(), before);
}

TEST(StandInNvmlXidWatcher, GpuWithoutXidEventsIsListedNotFatal) {
  Json second = HealthyGpu(1);
  second["supportedEvents"] = 0;
  StandInScript script(Json{{"gpus", {HealthyGpu(0), second}},
                            {"events", {{{"gpu", 0}, {"xid", 79}, {"afterMs", 10}}}}});
  std::unique_ptr<Nvml> nvml = Open();
  ASSERT_TRUE(nvml);
  XidStore store;
  XidWatcher watcher(*nvml, store, kShortWait);
  const XidWatcherStatus status = watcher.status();
  EXPECT_TRUE(status.running);
  EXPECT_THAT(status.watched_gpus, ElementsAre(0u));
  EXPECT_THAT(status.unsupported_gpus, ElementsAre(1u));
  EXPECT_EQ(status.error, std::nullopt);
  EXPECT_TRUE(Eventually([&] { return store.recorded() == 1; }));
}

TEST(StandInNvmlXidWatcher, RegistrationNotSupportedStartsNoThread) {
  Json gpu = HealthyGpu(0);
  gpu["results"] = {{"nvmlDeviceRegisterEvents", 3}};
  StandInScript script(Json{{"gpus", {gpu}}});
  std::unique_ptr<Nvml> nvml = Open();
  ASSERT_TRUE(nvml);
  const long before = Threads();
  XidStore store;
  XidWatcher watcher(*nvml, store, kShortWait);
  EXPECT_FALSE(watcher.status().running);
  EXPECT_THAT(watcher.status().unsupported_gpus, ElementsAre(0u));
  EXPECT_EQ(watcher.status().error, std::nullopt);
  EXPECT_EQ(Threads(), before);
}

TEST(StandInNvmlXidWatcher, OldDriverWithoutEventWaitSaysSo) {
  StandInScript script(TwoGpus(Json::array()));
  std::unique_ptr<Nvml> nvml = Open(FERRY_STAND_IN_NVML_OLD_DRIVER);
  ASSERT_TRUE(nvml);
  XidStore store;
  XidWatcher watcher(*nvml, store, kShortWait);
  const XidWatcherStatus status = watcher.status();
  EXPECT_FALSE(status.running);
  EXPECT_THAT(status.watched_gpus, IsEmpty());
  EXPECT_THAT(status.unsupported_gpus, ElementsAre(0u, 1u));
  EXPECT_EQ(status.error,
            std::string("XID events not supported by ") + FERRY_STAND_IN_NVML_OLD_DRIVER);
}

TEST(StandInNvmlXidWatcher, NvmlFailingMidRunIsKeptAsTheErrorAndRetried) {
  // Calls: nvmlInit_v2, count, event set, handle, supported events, register;
  // the next call fails, and from then on every wait does too.
  StandInScript script(Json{{"gpus", {HealthyGpu(0)}}, {"failAfterCalls", 6}});
  std::unique_ptr<Nvml> nvml = Open();
  ASSERT_TRUE(nvml);
  XidStore store;
  XidWatcher watcher(*nvml, store, kShortWait);
  EXPECT_THAT(watcher.status().watched_gpus, ElementsAre(0u));
  EXPECT_EQ(watcher.status().error, std::nullopt);
  const Reading<std::string> driver = nvml->DriverVersion();
  ASSERT_FALSE(driver.ok());
  EXPECT_EQ(driver.error().message, "nvmlSystemGetDriverVersion: GPU is lost");
  ASSERT_TRUE(Eventually([&] { return watcher.status().failed_waits >= 2; }));
  EXPECT_TRUE(watcher.status().running);
  EXPECT_EQ(watcher.status().error, "nvmlEventSetWait_v2: GPU is lost");
  watcher.Stop();
  EXPECT_FALSE(watcher.status().running);
  EXPECT_EQ(store.recorded(), 0u);
}

}  // namespace
}  // namespace ferry::gpu
