// The GPU report as a short table for people at a terminal
// (`ferry-agent gpu-health --once` without --json). Unknown values show "-".
#pragma once

#include <string>

#include "lib/gpu/gpu_report.h"

namespace ferry::gpu {

std::string RenderTable(const NodeGpuReport& report);

}  // namespace ferry::gpu
