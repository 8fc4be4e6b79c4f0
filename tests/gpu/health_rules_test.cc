// The health rules as a pure function: each rule fires alone with its exact
// reason, unknown values fire nothing, and the order of reasons is fixed.
#include "lib/gpu/health_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lib/gpu/clock_event_reasons.h"

namespace ferry::gpu {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Every value known and fine.
GpuReading Healthy() {
  GpuReading gpu;
  gpu.index = 0;
  gpu.uuid = "GPU-0";
  gpu.name = "NVIDIA H200";
  gpu.temperature_c = 41;
  gpu.power_watts = 75.25;
  gpu.ecc_uncorrected_volatile = 0;
  gpu.ecc_uncorrected_aggregate = 0;
  gpu.retired_pages = 0;
  gpu.retired_pages_pending = false;
  gpu.remapped_rows_pending = false;
  gpu.remapping_failed = false;
  gpu.clock_event_reasons = kClocksGpuIdle;
  return gpu;
}

GpuHealth Judge(const GpuReading& gpu, const std::map<uint64_t, uint64_t>& xids = {}) {
  return JudgeGpu(gpu, xids, HealthRules{});
}

TEST(HealthRules, HealthyGpuHasNoReasons) {
  const GpuHealth health = Judge(Healthy());
  EXPECT_TRUE(health.healthy);
  EXPECT_THAT(health.reasons, IsEmpty());
}

TEST(HealthRules, UnknownValuesFireNothing) {
  GpuReading gpu;  // nothing known but the index
  gpu.index = 3;
  const GpuHealth health = Judge(gpu);
  EXPECT_TRUE(health.healthy);
  EXPECT_THAT(health.reasons, IsEmpty());
}

TEST(HealthRules, UncorrectedVolatileEccIsUnhealthy) {
  GpuReading gpu = Healthy();
  gpu.ecc_uncorrected_volatile = 2;
  const GpuHealth health = Judge(gpu);
  EXPECT_FALSE(health.healthy);
  EXPECT_THAT(health.reasons, ElementsAre("uncorrected ECC errors: 2"));
}

TEST(HealthRules, AggregateEccAloneIsHealthy) {
  GpuReading gpu = Healthy();
  gpu.ecc_uncorrected_aggregate = 7;  // from an earlier life of the GPU
  EXPECT_TRUE(Judge(gpu).healthy);
  EXPECT_THAT(Judge(gpu).reasons, IsEmpty());
}

TEST(HealthRules, PendingRetiredPagesAreUnhealthy) {
  GpuReading gpu = Healthy();
  gpu.retired_pages = 3;
  gpu.retired_pages_pending = true;
  const GpuHealth health = Judge(gpu);
  EXPECT_FALSE(health.healthy);
  EXPECT_THAT(health.reasons, ElementsAre("retired pages pending"));
}

TEST(HealthRules, RetiredPagesNotPendingAreHealthy) {
  GpuReading gpu = Healthy();
  gpu.retired_pages = 3;
  EXPECT_TRUE(Judge(gpu).healthy);
}

TEST(HealthRules, PendingRowRemappingIsUnhealthy) {
  GpuReading gpu = Healthy();
  gpu.remapped_rows_pending = true;
  const GpuHealth health = Judge(gpu);
  EXPECT_FALSE(health.healthy);
  EXPECT_THAT(health.reasons, ElementsAre("row remapping pending"));
}

TEST(HealthRules, FailedRowRemappingIsUnhealthy) {
  GpuReading gpu = Healthy();
  gpu.remapping_failed = true;
  const GpuHealth health = Judge(gpu);
  EXPECT_FALSE(health.healthy);
  EXPECT_THAT(health.reasons, ElementsAre("row remapping failed"));
}

TEST(HealthRules, CriticalXidIsUnhealthyAndSaysWhatItMeans) {
  const GpuHealth health = Judge(Healthy(), {{79, 1}});
  EXPECT_FALSE(health.healthy);
  EXPECT_THAT(health.reasons, ElementsAre("critical XID 79 (GPU fell off the bus)"));
}

TEST(HealthRules, UncataloguedXidIsCriticalByNumber) {
  EXPECT_THAT(Judge(Healthy(), {{150, 4}}).reasons, ElementsAre("critical XID 150"));
}

TEST(HealthRules, ApplicationXidsAreNotFatal) {
  const GpuHealth health = Judge(Healthy(), {{13, 5}, {31, 1}, {43, 1}, {45, 1}, {68, 1}});
  EXPECT_TRUE(health.healthy);
  EXPECT_THAT(health.reasons, IsEmpty());
}

TEST(HealthRules, ApplicationXidsAreConfigurable) {
  const HealthRules rules{.application_xids = {79}};
  const GpuHealth health = JudgeGpu(Healthy(), {{13, 1}, {79, 1}}, rules);
  EXPECT_FALSE(health.healthy);
  EXPECT_THAT(health.reasons, ElementsAre("critical XID 13"));
}

TEST(HealthRules, NvmlNotAnsweringNamesTheError) {
  GpuReading gpu = Healthy();
  gpu.nvml_error = "nvmlDeviceGetPowerUsage: GPU is lost";
  const GpuHealth health = Judge(gpu);
  EXPECT_FALSE(health.healthy);
  EXPECT_THAT(health.reasons,
              ElementsAre("NVML not answering: nvmlDeviceGetPowerUsage: GPU is lost"));
}

TEST(HealthRules, HardwareSlowdownIsAtRiskButHealthy) {
  GpuReading gpu = Healthy();
  gpu.clock_event_reasons =
      kClocksHwThermalSlowdown | kClocksHwPowerBrakeSlowdown | kClocksSwPowerCap;
  const GpuHealth health = Judge(gpu);
  EXPECT_TRUE(health.healthy);
  EXPECT_THAT(health.reasons,
              ElementsAre("clocks slowed by hardware: HwThermalSlowdown, HwPowerBrakeSlowdown"));
}

TEST(HealthRules, SoftwareClockLimitsAreNoReason) {
  GpuReading gpu = Healthy();
  gpu.clock_event_reasons = kClocksSwPowerCap | kClocksSwThermalSlowdown | kClocksSyncBoost;
  EXPECT_THAT(Judge(gpu).reasons, IsEmpty());
}

TEST(HealthRules, EveryRuleFiresInItsOrder) {
  GpuReading gpu = Healthy();
  gpu.nvml_error = "nvmlDeviceGetRemappedRows: Unknown Error";
  gpu.ecc_uncorrected_volatile = 1;
  gpu.retired_pages_pending = true;
  gpu.remapped_rows_pending = true;
  gpu.remapping_failed = true;
  gpu.clock_event_reasons = kClocksHwSlowdown;
  const GpuHealth health = Judge(gpu, {{48, 1}, {13, 2}, {79, 1}});
  EXPECT_FALSE(health.healthy);
  EXPECT_THAT(
      health.reasons,
      ElementsAre("NVML not answering: nvmlDeviceGetRemappedRows: Unknown Error",
                  "uncorrected ECC errors: 1", "retired pages pending", "row remapping pending",
                  "row remapping failed", "critical XID 48 (double-bit ECC error)",
                  "critical XID 79 (GPU fell off the bus)",
                  "clocks slowed by hardware: HwSlowdown"));
}

TEST(HealthRules, NodeLevelReason) {
  EXPECT_EQ(NvmlNotAnswering("nvmlInit_v2: Driver Not Loaded"),
            "NVML not answering: nvmlInit_v2: Driver Not Loaded");
}

}  // namespace
}  // namespace ferry::gpu
