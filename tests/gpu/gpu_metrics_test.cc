// The report as Prometheus metrics: known values only, XID counters that
// follow the store rather than add up per publish.
#include "lib/gpu/gpu_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ferry::gpu {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

NodeGpuReport TwoGpus(const XidStore& xids) {
  NodeReading reading;
  reading.nvml.present = true;
  GpuReading known;
  known.index = 0;
  known.uuid = "GPU-a";
  known.temperature_c = 41;
  known.power_watts = 75.25;
  known.ecc_uncorrected_volatile = 2;
  known.clock_event_reasons = 0x41;  // GpuIdle | HwThermalSlowdown
  GpuReading unknown;
  unknown.index = 1;
  unknown.uuid = "GPU-b";
  reading.gpus = {known, unknown};
  return BuildReport(reading, HealthRules{}, &xids);
}

TEST(GpuMetrics, ExportsKnownValuesOnly) {
  MetricsRegistry registry;
  GpuMetrics metrics(registry);
  XidStore xids;
  metrics.Publish(TwoGpus(xids));
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("\nferry_gpu_nvml_present 1\n"));
  EXPECT_THAT(text, HasSubstr("\nferry_gpu_nvml_answering 1\n"));
  EXPECT_THAT(text, HasSubstr("\nferry_gpu_healthy{gpu=\"0\",uuid=\"GPU-a\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("\nferry_gpu_healthy{gpu=\"1\",uuid=\"GPU-b\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("\nferry_gpu_temperature_celsius{gpu=\"0\",uuid=\"GPU-a\"} 41\n"));
  EXPECT_THAT(text, HasSubstr("\nferry_gpu_power_watts{gpu=\"0\",uuid=\"GPU-a\"} 75.25\n"));
  EXPECT_THAT(text, HasSubstr("\nferry_gpu_ecc_uncorrected_errors{gpu=\"0\",uuid=\"GPU-a\","
                              "counter=\"volatile\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("\nferry_gpu_clock_event_reason_active{gpu=\"0\",uuid=\"GPU-a\","
                              "reason=\"HwThermalSlowdown\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("\nferry_gpu_clock_event_reason_active{gpu=\"0\",uuid=\"GPU-a\","
                              "reason=\"HwSlowdown\"} 0\n"));
  EXPECT_THAT(text, Not(HasSubstr("ferry_gpu_temperature_celsius{gpu=\"1\"")));
  EXPECT_THAT(text, Not(HasSubstr("counter=\"aggregate\"")));
}

TEST(GpuMetrics, XidCountersFollowTheStore) {
  MetricsRegistry registry;
  GpuMetrics metrics(registry);
  XidStore xids;
  const auto now = std::chrono::system_clock::now();
  xids.Record(0, 79, now);
  xids.Record(0, 13, now);
  metrics.Publish(TwoGpus(xids));
  metrics.Publish(TwoGpus(xids));  // the same counts again: no change
  xids.Record(0, 79, now);
  metrics.Publish(TwoGpus(xids));
  const std::string text = registry.Render();
  EXPECT_THAT(text,
              HasSubstr("\nferry_gpu_xid_critical_total{gpu=\"0\",uuid=\"GPU-a\",xid=\"79\"} 2\n"));
  EXPECT_THAT(
      text,
      HasSubstr("\nferry_gpu_xid_application_total{gpu=\"0\",uuid=\"GPU-a\",xid=\"13\"} 1\n"));
}

TEST(GpuMetrics, NoNvml) {
  MetricsRegistry registry;
  GpuMetrics metrics(registry);
  metrics.Publish(
      BuildReport(ReadingWithoutNvml(MakeError(ErrorCode::kNotFound, "absent")), HealthRules{}));
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("\nferry_gpu_nvml_present 0\n"));
  EXPECT_THAT(text, Not(HasSubstr("ferry_gpu_healthy{")));
}

}  // namespace
}  // namespace ferry::gpu
