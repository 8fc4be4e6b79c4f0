// The GPU report as JSON. GpuJson is exactly one ModelNode status.gpus[]
// entry (crds/modelnode.yaml): the CRD's field names, and its bounds kept
// (lists and strings cut to the schema's maxima), so the API server accepts
// it as it is. Unknown values are left out rather than written as zero.
#pragma once

#include <nlohmann/json.hpp>

#include "lib/gpu/gpu_report.h"

namespace ferry::gpu {

// Member order follows docs/crds.md, for people reading the output.
nlohmann::ordered_json GpuJson(const GpuReport& gpu);

// What `ferry-agent gpu-health --json` prints:
//   {"nvmlPresent": false, "gpus": []}                       no NVML: no GPUs
//   {"nvmlPresent": true, "nvmlLibrary": …, "driverVersion": …, "gpus": [GpuJson…]}
// plus "nvmlError" when NVML does not answer for the node, and "xidWatcher"
// when a watcher ran.
nlohmann::ordered_json NodeReportJson(const NodeGpuReport& report);

}  // namespace ferry::gpu
