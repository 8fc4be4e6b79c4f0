// NVML read through the stand-in libnvidia-ml.so.1 (tests/gpu/stand_in_nvml.cc),
// loaded by explicit path: every value, every health rule from what the
// library answers, functions missing or not supported, and NVML failing
// part-way through a reading.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lib/gpu/gpu_reading.h"
#include "lib/gpu/gpu_report.h"
#include "lib/gpu/nvml.h"
#include "lib/gpu/report_json.h"
#include "tests/gpu/stand_in_script.h"

namespace ferry::gpu {
namespace {

using ::ferry::testing::HealthyGpu;
using ::ferry::testing::StandInScript;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Json = nlohmann::json;

std::unique_ptr<Nvml> OpenStandIn(const char* library = FERRY_STAND_IN_NVML) {
  Result<std::unique_ptr<Nvml>> nvml = Nvml::Open(library);
  if (!nvml.ok()) ADD_FAILURE() << nvml.error().message;
  return nvml.ok() ? std::move(nvml).value() : nullptr;
}

// One report of the node `script` describes.
NodeGpuReport Report(const Json& script, const char* library = FERRY_STAND_IN_NVML) {
  StandInScript scripted(script);
  std::unique_ptr<Nvml> nvml = OpenStandIn(library);
  if (!nvml) return {};
  return BuildReport(ReadNode(*nvml), HealthRules{});
}

// A node of one GPU, healthy but for `changes`.
Json OneGpu(const Json& changes = Json::object()) {
  Json gpu = HealthyGpu(0);
  gpu.merge_patch(changes);
  return {{"driverVersion", "550.54.15"}, {"gpus", {gpu}}};
}

TEST(StandInNvml, MissingLibraryMeansNoGpus) {
  Result<std::unique_ptr<Nvml>> nvml = Nvml::Open("/nonexistent/folder/libnvidia-ml.so.1");
  ASSERT_FALSE(nvml.ok());
  EXPECT_EQ(nvml.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(nvml.error().message, ::testing::StartsWith("NVML not found: "));
  const NodeGpuReport report = BuildReport(ReadingWithoutNvml(nvml.error()), HealthRules{});
  EXPECT_FALSE(report.nvml.present);
  EXPECT_TRUE(report.healthy());
  EXPECT_EQ(NodeReportJson(report).dump(), R"({"nvmlPresent":false,"gpus":[]})");
}

TEST(StandInNvml, LibraryThatIsNotOneIsRefusedNotAbsent) {
  // A file that exists but does not load is a broken driver install.
  Result<std::unique_ptr<Nvml>> nvml = Nvml::Open(FERRY_SOURCE_DIR "/CMakeLists.txt");
  ASSERT_FALSE(nvml.ok());
  EXPECT_EQ(nvml.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(nvml.error().message,
              ::testing::StartsWith("cannot load " FERRY_SOURCE_DIR "/CMakeLists.txt: "));
}

TEST(StandInNvml, HealthyGpuReadsEveryField) {
  const NodeGpuReport report = Report(OneGpu());
  EXPECT_TRUE(report.nvml.present);
  EXPECT_EQ(report.nvml.library, FERRY_STAND_IN_NVML);
  EXPECT_EQ(report.nvml.driver_version, "550.54.15");
  EXPECT_EQ(report.nvml.error, std::nullopt);
  ASSERT_EQ(report.gpus.size(), 1u);
  const GpuReading& gpu = report.gpus[0].reading;
  EXPECT_EQ(gpu.index, 0u);
  EXPECT_EQ(gpu.uuid, "GPU-00000000-aaaa-bbbb-cccc-dddddddddddd");
  EXPECT_EQ(gpu.name, "NVIDIA H200");
  EXPECT_EQ(gpu.temperature_c, 41u);
  EXPECT_EQ(gpu.power_watts, 75.25);
  EXPECT_EQ(gpu.memory_used_bytes, 536870912u);
  EXPECT_EQ(gpu.memory_total_bytes, 150754820096u);
  EXPECT_EQ(gpu.utilization_gpu_percent, 12u);
  EXPECT_EQ(gpu.utilization_memory_percent, 3u);
  EXPECT_EQ(gpu.ecc_uncorrected_volatile, 0u);
  EXPECT_EQ(gpu.ecc_uncorrected_aggregate, 0u);
  EXPECT_EQ(gpu.retired_pages, 0u);
  EXPECT_EQ(gpu.retired_pages_pending, false);
  EXPECT_EQ(gpu.remapped_rows_pending, false);
  EXPECT_EQ(gpu.remapping_failed, false);
  EXPECT_EQ(gpu.clock_event_reasons, 1u);
  EXPECT_EQ(gpu.nvml_error, std::nullopt);
  EXPECT_TRUE(report.gpus[0].health.healthy);
  EXPECT_THAT(report.gpus[0].health.reasons, IsEmpty());
  EXPECT_TRUE(report.healthy());
}

TEST(StandInNvml, UncorrectedEccMakesTheGpuUnhealthy) {
  const NodeGpuReport report =
      Report(OneGpu({{"eccUncorrectedVolatile", 2}, {"eccUncorrectedAggregate", 9}}));
  ASSERT_EQ(report.gpus.size(), 1u);
  EXPECT_EQ(report.gpus[0].reading.ecc_uncorrected_aggregate, 9u);
  EXPECT_FALSE(report.gpus[0].health.healthy);
  EXPECT_THAT(report.gpus[0].health.reasons, ElementsAre("uncorrected ECC errors: 2"));
  EXPECT_FALSE(report.healthy());
}

TEST(StandInNvml, PendingRetiredPagesMakeTheGpuUnhealthy) {
  const NodeGpuReport report =
      Report(OneGpu({{"retiredPages", {{"multipleSingleBit", 1}, {"doubleBit", 2}}},
                     {"retiredPagesPending", true}}));
  ASSERT_EQ(report.gpus.size(), 1u);
  EXPECT_EQ(report.gpus[0].reading.retired_pages, 3u);  // both causes
  EXPECT_FALSE(report.gpus[0].health.healthy);
  EXPECT_THAT(report.gpus[0].health.reasons, ElementsAre("retired pages pending"));
}

TEST(StandInNvml, PendingRowRemappingMakesTheGpuUnhealthy) {
  const NodeGpuReport report =
      Report(OneGpu({{"remappedRows", {{"uncorrectable", 1}, {"pending", true}}}}));
  ASSERT_EQ(report.gpus.size(), 1u);
  EXPECT_EQ(report.gpus[0].reading.remapped_rows_pending, true);
  EXPECT_EQ(report.gpus[0].reading.remapping_failed, false);
  EXPECT_THAT(report.gpus[0].health.reasons, ElementsAre("row remapping pending"));
  EXPECT_FALSE(report.gpus[0].health.healthy);
}

TEST(StandInNvml, FailedRowRemappingMakesTheGpuUnhealthy) {
  const NodeGpuReport report = Report(OneGpu({{"remappedRows", {{"failed", true}}}}));
  ASSERT_EQ(report.gpus.size(), 1u);
  EXPECT_EQ(report.gpus[0].reading.remapping_failed, true);
  EXPECT_THAT(report.gpus[0].health.reasons, ElementsAre("row remapping failed"));
  EXPECT_FALSE(report.gpus[0].health.healthy);
}

TEST(StandInNvml, NotSupportedLeavesFieldsUnknownNotUnhealthy) {
  // Only the identity: every other query answers NOT_SUPPORTED, as the ECC
  // and page-retirement ones do on GPUs without them.
  const NodeGpuReport report = Report({{"gpus", {{{"uuid", "GPU-x"}, {"name", "NVIDIA T4"}}}},
                                       {"results", {{"nvmlSystemGetDriverVersion", 3}}}});
  ASSERT_EQ(report.gpus.size(), 1u);
  const GpuReading& gpu = report.gpus[0].reading;
  EXPECT_EQ(report.nvml.driver_version, std::nullopt);
  EXPECT_EQ(gpu.uuid, "GPU-x");
  EXPECT_EQ(gpu.temperature_c, std::nullopt);
  EXPECT_EQ(gpu.power_watts, std::nullopt);
  EXPECT_EQ(gpu.memory_total_bytes, std::nullopt);
  EXPECT_EQ(gpu.ecc_uncorrected_volatile, std::nullopt);
  EXPECT_EQ(gpu.retired_pages, std::nullopt);
  EXPECT_EQ(gpu.retired_pages_pending, std::nullopt);
  EXPECT_EQ(gpu.remapped_rows_pending, std::nullopt);
  EXPECT_EQ(gpu.clock_event_reasons, std::nullopt);
  EXPECT_EQ(gpu.nvml_error, std::nullopt);
  EXPECT_TRUE(report.gpus[0].health.healthy);
  EXPECT_EQ(GpuJson(report.gpus[0]).dump(),
            R"({"index":0,"uuid":"GPU-x","name":"NVIDIA T4","healthy":true,"reasons":[],)"
            R"("xidCritical":[],"xidApplication":[]})");
}

TEST(StandInNvml, FailingMidRunNamesTheCallThatFailed) {
  // Calls: nvmlInit_v2, driver version, count, handle 0, UUID, name,
  // temperature succeed; the 8th (power of GPU 0) and all after fail.
  Json script = {{"driverVersion", "550.54.15"},
                 {"gpus", {HealthyGpu(0), HealthyGpu(1)}},
                 {"failAfterCalls", 7}};
  const NodeGpuReport report = Report(script);
  ASSERT_EQ(report.gpus.size(), 2u);
  const GpuReport& first = report.gpus[0];
  EXPECT_EQ(first.reading.uuid, "GPU-00000000-aaaa-bbbb-cccc-dddddddddddd");
  EXPECT_EQ(first.reading.temperature_c, 41u);
  EXPECT_EQ(first.reading.power_watts, std::nullopt);
  EXPECT_EQ(first.reading.memory_total_bytes, std::nullopt);
  EXPECT_FALSE(first.health.healthy);
  EXPECT_THAT(first.health.reasons,
              ElementsAre("NVML not answering: nvmlDeviceGetPowerUsage: GPU is lost"));
  const GpuReport& second = report.gpus[1];
  EXPECT_EQ(second.reading.index, 1u);
  EXPECT_EQ(second.reading.uuid, std::nullopt);
  EXPECT_THAT(second.health.reasons,
              ElementsAre("NVML not answering: nvmlDeviceGetHandleByIndex_v2: GPU is lost"));
  EXPECT_EQ(report.healthy_gpus(), 0);
}

TEST(StandInNvml, ErrorOnOneGpuLeavesTheOthersHealthy) {
  Json second = HealthyGpu(1);
  second["results"] = {{"nvmlDeviceGetTemperature", 999}};
  const NodeGpuReport report = Report({{"gpus", {HealthyGpu(0), second}}});
  ASSERT_EQ(report.gpus.size(), 2u);
  EXPECT_TRUE(report.gpus[0].health.healthy);
  EXPECT_THAT(report.gpus[1].health.reasons,
              ElementsAre("NVML not answering: nvmlDeviceGetTemperature: Unknown Error"));
  EXPECT_EQ(report.healthy_gpus(), 1);
}

TEST(StandInNvml, InitFailureIsNvmlNotAnsweringForTheNode) {
  StandInScript scripted(Json{{"results", {{"nvmlInit_v2", 9}}}});
  Result<std::unique_ptr<Nvml>> nvml = Nvml::Open(FERRY_STAND_IN_NVML);
  ASSERT_FALSE(nvml.ok());
  EXPECT_EQ(nvml.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(nvml.error().message, "nvmlInit_v2: Driver Not Loaded");
  const NodeGpuReport report = BuildReport(ReadingWithoutNvml(nvml.error()), HealthRules{});
  EXPECT_FALSE(report.healthy());
  EXPECT_EQ(NodeReportJson(report).dump(),
            R"({"nvmlPresent":true,"nvmlError":"nvmlInit_v2: Driver Not Loaded","gpus":[]})");
}

TEST(StandInNvml, DeviceCountFailureIsNvmlNotAnsweringForTheNode) {
  const NodeGpuReport report =
      Report({{"gpus", {HealthyGpu(0)}}, {"results", {{"nvmlDeviceGetCount_v2", 15}}}});
  EXPECT_EQ(report.nvml.error, "nvmlDeviceGetCount_v2: GPU is lost");
  EXPECT_THAT(report.gpus, IsEmpty());
  EXPECT_FALSE(report.healthy());
}

TEST(StandInNvml, NoGpusIsHealthy) {
  const NodeGpuReport report = Report({{"driverVersion", "550.54.15"}});
  EXPECT_TRUE(report.nvml.present);
  EXPECT_THAT(report.gpus, IsEmpty());
  EXPECT_TRUE(report.healthy());
}

TEST(StandInNvml, CurrentDriverReadsClockEventReasonsByTheirNewName) {
  // Were the old name read, the GPU would seem lost.
  const NodeGpuReport report =
      Report(OneGpu({{"clockEventReasons", 0x40},
                     {"results", {{"nvmlDeviceGetCurrentClocksThrottleReasons", 15}}}}));
  ASSERT_EQ(report.gpus.size(), 1u);
  EXPECT_EQ(report.gpus[0].reading.clock_event_reasons, 0x40u);
  EXPECT_TRUE(report.gpus[0].health.healthy);
  EXPECT_THAT(report.gpus[0].health.reasons,
              ElementsAre("clocks slowed by hardware: HwThermalSlowdown"));
}

TEST(StandInNvml, OldDriverFallsBackToThrottleReasonsAndLacksRemapping) {
  const NodeGpuReport report =
      Report(OneGpu({{"clockEventReasons", 0x4}, {"remappedRows", {{"failed", true}}}}),
             FERRY_STAND_IN_NVML_OLD_DRIVER);
  ASSERT_EQ(report.gpus.size(), 1u);
  const GpuReading& gpu = report.gpus[0].reading;
  EXPECT_EQ(gpu.clock_event_reasons, 0x4u);
  // The old library has no nvmlDeviceGetRemappedRows: unknown, not failed.
  EXPECT_EQ(gpu.remapped_rows_pending, std::nullopt);
  EXPECT_EQ(gpu.remapping_failed, std::nullopt);
  EXPECT_EQ(gpu.nvml_error, std::nullopt);
  EXPECT_TRUE(report.gpus[0].health.healthy);
}

}  // namespace
}  // namespace ferry::gpu
