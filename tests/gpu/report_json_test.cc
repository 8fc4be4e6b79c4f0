// The report as JSON: a gpus[] entry with the CRD's names and bounds, unknown
// values left out, and the node wrapper for `gpu-health --json`.
#include "lib/gpu/report_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lib/gpu/clock_event_reasons.h"

namespace ferry::gpu {
namespace {

GpuReading FullReading() {
  GpuReading gpu;
  gpu.index = 1;
  gpu.uuid = "GPU-77d0";
  gpu.name = "NVIDIA H200";
  gpu.temperature_c = 44;
  gpu.power_watts = 75.25;
  gpu.memory_used_bytes = 536870912;
  gpu.memory_total_bytes = 150754820096;
  gpu.utilization_gpu_percent = 12;
  gpu.utilization_memory_percent = 3;
  gpu.ecc_uncorrected_volatile = 2;
  gpu.ecc_uncorrected_aggregate = 5;
  gpu.retired_pages = 0;
  gpu.retired_pages_pending = false;
  gpu.remapped_rows_pending = false;
  gpu.remapping_failed = false;
  gpu.clock_event_reasons = kClocksGpuIdle | kClocksSwPowerCap;
  return gpu;
}

TEST(ReportJson, NoNvmlIsNoGpus) {
  const NodeGpuReport report = BuildReport(
      ReadingWithoutNvml(MakeError(ErrorCode::kNotFound, "NVML not found: x")), HealthRules{});
  EXPECT_EQ(NodeReportJson(report).dump(), R"({"nvmlPresent":false,"gpus":[]})");
}

TEST(ReportJson, NvmlNotAnsweringIsANodeError) {
  const NodeGpuReport report = BuildReport(
      ReadingWithoutNvml(MakeError(ErrorCode::kUnavailable, "nvmlInit_v2: Driver Not Loaded")),
      HealthRules{});
  EXPECT_FALSE(report.healthy());
  EXPECT_EQ(NodeReportJson(report).dump(),
            R"({"nvmlPresent":true,"nvmlError":"nvmlInit_v2: Driver Not Loaded","gpus":[]})");
}

TEST(ReportJson, GpuEntryHasTheCrdFieldsInOrder) {
  NodeReading reading;
  reading.gpus.push_back(FullReading());
  XidStore xids;
  xids.Record(1, 13, std::chrono::system_clock::now());
  xids.Record(1, 79, std::chrono::system_clock::now());
  const NodeGpuReport report = BuildReport(reading, HealthRules{}, &xids);
  ASSERT_EQ(report.gpus.size(), 1u);
  EXPECT_EQ(GpuJson(report.gpus[0]).dump(),
            R"j({"index":1,"uuid":"GPU-77d0","name":"NVIDIA H200","healthy":false,)j"
            R"j("reasons":["uncorrected ECC errors: 2","critical XID 79 (GPU fell off the bus)"],)j"
            R"j("eccUncorrected":2,"eccUncorrectedAggregate":5,"retiredPages":0,)j"
            R"j("retiredPagesPending":false,"remappedRowsPending":false,"remappingFailed":false,)j"
            R"j("xidCritical":[79],"xidApplication":[13],"temperatureC":44,"powerWatts":75.25,)j"
            R"j("memoryUsedBytes":536870912,"memoryTotalBytes":150754820096,)j"
            R"j("utilizationPercent":12,"memoryUtilizationPercent":3,)j"
            R"j("throttleReasons":["GpuIdle","SwPowerCap"]})j");
}

TEST(ReportJson, UnknownValuesAreLeftOut) {
  GpuReading gpu;
  gpu.index = 0;
  const GpuReport report{
      .reading = gpu, .xid_counts = {}, .xid_critical = {}, .xid_application = {}, .health = {}};
  EXPECT_EQ(GpuJson(report).dump(),
            R"({"index":0,"healthy":true,"reasons":[],"xidCritical":[],"xidApplication":[]})");
}

TEST(ReportJson, KeepsTheCrdBounds) {
  GpuReport report;
  report.reading.index = 0;
  report.reading.uuid = std::string(200, 'u');
  report.reading.name = std::string(255, 'n') + "\xC3\xA9";  // é across the 256th byte
  for (int i = 0; i < 20; ++i) report.health.reasons.push_back(std::string(300, 'r'));
  for (uint64_t xid = 100; xid < 140; ++xid) report.xid_critical.push_back(xid);
  report.reading.ecc_uncorrected_volatile = ~uint64_t{0};
  report.reading.retired_pages = uint64_t{1} << 40;
  const nlohmann::ordered_json json = GpuJson(report);
  EXPECT_EQ(json["uuid"].get<std::string>().size(), 128u);
  EXPECT_EQ(json["name"].get<std::string>(), std::string(255, 'n'));
  ASSERT_EQ(json["reasons"].size(), 16u);
  EXPECT_EQ(json["reasons"][0].get<std::string>().size(), 256u);
  ASSERT_EQ(json["xidCritical"].size(), 32u);
  EXPECT_EQ(json["xidCritical"][31], 131);
  EXPECT_EQ(json["eccUncorrected"], INT64_MAX);
  EXPECT_EQ(json["retiredPages"], INT32_MAX);
}

TEST(ReportJson, WatcherStatusWhenOneRan) {
  NodeGpuReport report;
  report.nvml.present = true;
  report.nvml.library = "/usr/lib/libnvidia-ml.so.1";
  report.nvml.driver_version = "550.54.15";
  report.xid_watcher = XidWatcherStatus{.running = false,
                                        .watched_gpus = {0},
                                        .unsupported_gpus = {1},
                                        .error = std::nullopt,
                                        .failed_waits = 0};
  report.xid_events_recorded = 3;
  EXPECT_EQ(NodeReportJson(report).dump(),
            R"({"nvmlPresent":true,"nvmlLibrary":"/usr/lib/libnvidia-ml.so.1",)"
            R"("driverVersion":"550.54.15","gpus":[],"xidWatcher":{"running":false,)"
            R"("watchedGPUs":[0],"unsupportedGPUs":[1],"eventsRecorded":3}})");
}

}  // namespace
}  // namespace ferry::gpu
