#include "tests/gpu/stand_in_script.h"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace ferry::testing {

StandInScript::StandInScript(const nlohmann::json& script) : path_((dir_ / "nvml.json").string()) {
  std::ofstream(path_) << script.dump();
  if (::setenv(kStandInScriptVariable, path_.c_str(), 1) != 0) {
    throw std::runtime_error("setenv failed");
  }
}

StandInScript::~StandInScript() { ::unsetenv(kStandInScriptVariable); }

nlohmann::json HealthyGpu(int index) {
  return {
      {"uuid", "GPU-0000000" + std::to_string(index) + "-aaaa-bbbb-cccc-dddddddddddd"},
      {"name", "NVIDIA H200"},
      {"temperatureC", 41 + index},
      {"powerMilliwatts", 75250},
      {"memory", {{"total", 150754820096}, {"used", 536870912}}},
      {"utilization", {{"gpu", 12}, {"memory", 3}}},
      {"eccUncorrectedVolatile", 0},
      {"eccUncorrectedAggregate", 0},
      {"retiredPages", {{"multipleSingleBit", 0}, {"doubleBit", 0}}},
      {"retiredPagesPending", false},
      {"remappedRows",
       {{"correctable", 0}, {"uncorrectable", 0}, {"pending", false}, {"failed", false}}},
      {"clockEventReasons", 1},
  };
}

}  // namespace ferry::testing
