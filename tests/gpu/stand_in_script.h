// The script the stand-in libnvidia-ml.so.1 (stand_in_nvml.cc) answers from,
// for one test: written to a temporary file and named in
// $FERRY_STAND_IN_NVML_SCRIPT while this object lives. The stand-in reads it
// at nvmlInit_v2, so open NVML after making one.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/temp_dir.h"

namespace ferry::testing {

inline constexpr char kStandInScriptVariable[] = "FERRY_STAND_IN_NVML_SCRIPT";

class StandInScript {
 public:
  explicit StandInScript(const nlohmann::json& script);
  ~StandInScript();
  StandInScript(const StandInScript&) = delete;
  StandInScript& operator=(const StandInScript&) = delete;

  const std::string& path() const { return path_; }

 private:
  TempDir dir_;
  std::string path_;
};

// A healthy H200-like GPU: every value the stand-in can give, none alarming.
nlohmann::json HealthyGpu(int index);

}  // namespace ferry::testing
