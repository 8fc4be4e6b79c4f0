// The real `ferry-agent gpu-health`, as a user runs it: the binary finds the
// stand-in libnvidia-ml.so.1 (tests/gpu/stand_in_nvml.cc) by its usual name
// through LD_LIBRARY_PATH, and what it prints is checked exactly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "tests/gpu/stand_in_script.h"
#include "tests/support/paths.h"
#include "tests/support/process.h"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

// A healthy GPU 0 and a GPU 1 with uncorrected ECC errors.
Json TwoGpuNode(const Json& events = Json::array()) {
  Json second = HealthyGpu(1);
  second["eccUncorrectedVolatile"] = 2;
  second["clockEventReasons"] = 0x48;  // HwSlowdown | HwThermalSlowdown
  return {{"driverVersion", "550.54.15"}, {"gpus", {HealthyGpu(0), second}}, {"events", events}};
}

ProcessResult RunAgent(const std::vector<std::string>& args, const StandInScript& script) {
  std::vector<std::string> argv = {BinaryPath("ferry-agent"), "gpu-health"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(
      argv, "",
      {{"LD_LIBRARY_PATH", FERRY_STAND_IN_NVML_DIR}, {kStandInScriptVariable, script.path()}});
}

TEST(StandInNvmlCli, OnceJsonPrintsTheReportExactly) {
  StandInScript script(TwoGpuNode());
  const ProcessResult run = RunAgent({"--once", "--json"}, script);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  EXPECT_EQ(run.out, R"({
  "nvmlPresent": true,
  "nvmlLibrary": ")" FERRY_STAND_IN_NVML_DIR R"(/libnvidia-ml.so.1",
  "driverVersion": "550.54.15",
  "gpus": [
    {
      "index": 0,
      "uuid": "GPU-00000000-aaaa-bbbb-cccc-dddddddddddd",
      "name": "NVIDIA H200",
      "healthy": true,
      "reasons": [],
      "eccUncorrected": 0,
      "eccUncorrectedAggregate": 0,
      "retiredPages": 0,
      "retiredPagesPending": false,
      "remappedRowsPending": false,
      "remappingFailed": false,
      "xidCritical": [],
      "xidApplication": [],
      "temperatureC": 41,
      "powerWatts": 75.25,
      "memoryUsedBytes": 536870912,
      "memoryTotalBytes": 150754820096,
      "utilizationPercent": 12,
      "memoryUtilizationPercent": 3,
      "throttleReasons": [
        "GpuIdle"
      ]
    },
    {
      "index": 1,
      "uuid": "GPU-00000001-aaaa-bbbb-cccc-dddddddddddd",
      "name": "NVIDIA H200",
      "healthy": false,
      "reasons": [
        "uncorrected ECC errors: 2",
        "clocks slowed by hardware: HwSlowdown, HwThermalSlowdown"
      ],
      "eccUncorrected": 2,
      "eccUncorrectedAggregate": 0,
      "retiredPages": 0,
      "retiredPagesPending": false,
      "remappedRowsPending": false,
      "remappingFailed": false,
      "xidCritical": [],
      "xidApplication": [],
      "temperatureC": 42,
      "powerWatts": 75.25,
      "memoryUsedBytes": 536870912,
      "memoryTotalBytes": 150754820096,
      "utilizationPercent": 12,
      "memoryUtilizationPercent": 3,
      "throttleReasons": [
        "HwSlowdown",
        "HwThermalSlowdown"
      ]
    }
  ]
}
)");
}

TEST(StandInNvmlCli, NoLibraryPrintsNoGpusAndSucceeds) {
  StandInScript script(TwoGpuNode());
  const ProcessResult run =
      RunAgent({"--once", "--json", "--nvml", "/nonexistent/libnvidia-ml.so.1"}, script);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "{\n  \"nvmlPresent\": false,\n  \"gpus\": []\n}\n");
  const ProcessResult table =
      RunAgent({"--once", "--nvml", "/nonexistent/libnvidia-ml.so.1"}, script);
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_EQ(table.out,
            "no GPUs (NVML not found: /nonexistent/libnvidia-ml.so.1: cannot open shared object "
            "file: No such file or directory)\n");
}

TEST(StandInNvmlCli, NvmlNotAnsweringIsReportedNotAFailure) {
  StandInScript script(Json{{"results", {{"nvmlInit_v2", 9}}}});
  const ProcessResult run = RunAgent({"--once", "--json"}, script);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "{\n  \"nvmlPresent\": true,\n  \"nvmlError\": \"nvmlInit_v2: Driver Not Loaded\",\n"
            "  \"gpus\": []\n}\n");
}

TEST(StandInNvmlCli, TableForPeople) {
  StandInScript script(TwoGpuNode());
  const ProcessResult run = RunAgent({"--once"}, script);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("NVML 550.54.15 (" FERRY_STAND_IN_NVML_DIR
                                 "/libnvidia-ml.so.1): 2 GPUs, 1 healthy\n"));
  EXPECT_THAT(run.out, HasSubstr("GPU HEALTHY NAME"));
  EXPECT_THAT(run.out,
              ::testing::ContainsRegex("\n0   yes     NVIDIA H200 +GPU-00000000-[a-d-]+ +41C +"
                                       "75\\.2 W +0\\.5/140\\.4 GiB +12% +GpuIdle\n"));
  EXPECT_THAT(run.out, ::testing::ContainsRegex(
                           "\n1   NO      .*uncorrected ECC errors: 2; clocks slowed by hardware: "
                           "HwSlowdown, HwThermalSlowdown; HwSlowdown; HwThermalSlowdown\n"));
}

TEST(StandInNvmlCli, PrometheusMetrics) {
  StandInScript script(TwoGpuNode());
  const ProcessResult run = RunAgent({"--once", "--prometheus"}, script);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("\nferry_gpu_healthy{gpu=\"1\",uuid=\"GPU-00000001-aaaa-bbbb-"
                                 "cccc-dddddddddddd\"} 0\n"));
  EXPECT_THAT(run.out, HasSubstr("\nferry_gpu_temperature_celsius{gpu=\"0\",uuid=\"GPU-00000000-"
                                 "aaaa-bbbb-cccc-dddddddddddd\"} 41\n"));
}

TEST(StandInNvmlCli, WatchXidPrintsEveryEventAndLeavesNoThread) {
  StandInScript script(TwoGpuNode(Json::array({{{"gpu", 0}, {"xid", 79}, {"afterMs", 100}},
                                               {{"gpu", 1}, {"xid", 13}, {"afterMs", 200}},
                                               {{"gpu", 0}, {"xid", 79}, {"afterMs", 300}}})));
  const ProcessResult run = RunAgent({"--watch-xid", "1", "--json"}, script);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string time = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z";
  EXPECT_TRUE(std::regex_search(run.out, std::regex("^xid 79 on gpu 0 at " + time +
                                                    " \\(critical\\)\n"
                                                    "xid 13 on gpu 1 at " +
                                                    time +
                                                    " \\(application\\)\n"
                                                    "xid 79 on gpu 0 at " +
                                                    time + " \\(critical\\)\n\\{\n")))
      << run.out;
  EXPECT_THAT(run.out, HasSubstr("\"critical XID 79 (GPU fell off the bus)\""));
  EXPECT_THAT(run.out, HasSubstr("\"xidCritical\": [\n        79\n      ]"));
  EXPECT_THAT(run.out, HasSubstr("\"xidApplication\": [\n        13\n      ]"));
  EXPECT_THAT(run.out, HasSubstr("\"xidWatcher\": {\n    \"running\": false,\n"));
  EXPECT_THAT(run.out, HasSubstr("\"eventsRecorded\": 3\n"));
  EXPECT_TRUE(std::regex_search(
      run.out, std::regex("\nxid watch: 3 events recorded, 3 printed in 1\\.\\d s; GPUs watched "
                          "0,1, unsupported none; threads before 1, during 2, after 1\n$")))
      << run.out;
}

TEST(StandInNvmlCli, ApplicationXidsFlagDecidesWhatIsFatal) {
  StandInScript script(TwoGpuNode(Json::array({{{"gpu", 0}, {"xid", 79}, {"afterMs", 10}}})));
  const ProcessResult run =
      RunAgent({"--watch-xid", "0.3", "--json", "--application-xids", "79,13"}, script);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("(application)\n"));
  EXPECT_THAT(run.out, HasSubstr("\"xidApplication\": [\n        79\n      ]"));
  EXPECT_THAT(run.out, Not(HasSubstr("critical XID")));
}

TEST(StandInNvmlCli, WatchWithoutNvmlSaysNoGpus) {
  StandInScript script(TwoGpuNode());
  const ProcessResult run =
      RunAgent({"--watch-xid", "5", "--nvml", "/nonexistent/libnvidia-ml.so.1"}, script);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "no GPUs (NVML not found: /nonexistent/libnvidia-ml.so.1: cannot open shared object "
            "file: No such file or directory)\n"
            "xid watch: 0 events recorded, 0 printed in 0.0 s; GPUs watched none, unsupported "
            "none; threads before 1, during 1, after 1; watcher error: not started: NVML not "
            "found: /nonexistent/libnvidia-ml.so.1: cannot open shared object file: No such file "
            "or directory\n");
}

TEST(StandInNvmlCli, UsageErrors) {
  StandInScript script(TwoGpuNode());
  const ProcessResult neither = RunAgent({"--json"}, script);
  EXPECT_EQ(neither.exit_code, 2);
  EXPECT_EQ(neither.out, "");
  EXPECT_EQ(neither.err,
            "ferry-agent gpu-health: say --once (one report) or --watch-xid SECONDS\n"
            "Run 'ferry-agent gpu-health --help' for usage.\n");
  const ProcessResult both = RunAgent({"--once", "--json", "--prometheus"}, script);
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_THAT(both.err, HasSubstr("--json excludes --prometheus"));
  const ProcessResult negative = RunAgent({"--watch-xid", "0"}, script);
  EXPECT_EQ(negative.exit_code, 2);
  EXPECT_THAT(negative.err, HasSubstr("--watch-xid"));
}

}  // namespace
}  // namespace ferry::testing
