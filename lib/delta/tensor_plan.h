// What a tensor-aware delta does with each byte range of the target, decided
// from the safetensors layouts alone (no tensor data is read):
//
// - the header (length prefix and JSON) and every gap: literal bytes, the
//   header compressed against the primary base's header;
// - a tensor whose name some base holds with the same dtype and byte length:
//   copied when the bytes are equal, else a numeric difference;
// - any other tensor (new, re-typed, resized): fresh, i.e. numeric against
//   zeros.
// The steps cover the target's bytes in order, without overlap or hole.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lib/delta/element.h"
#include "lib/delta/safetensors.h"

namespace ferry::delta {

struct PlanBase {
  std::span<const uint8_t> bytes;
  const SafetensorsLayout* layout = nullptr;  // null: not safetensors
};

struct PlanStep {
  enum class Kind { kLiteral, kCopy, kNumeric };
  Kind kind = Kind::kLiteral;
  uint64_t begin = 0, end = 0;  // in the target
  std::optional<size_t> base;   // index into the plan's bases
  uint64_t base_offset = 0;     // where the partner bytes (or the prefix) start
  uint64_t base_length = 0;     // prefix length for literals
  ElementType type{};           // numeric steps
};

struct TensorPlan {
  std::vector<PlanStep> steps;
  uint64_t unchanged = 0, diffed = 0, fresh = 0;
};

// `primary` is the base whose file name matches the target's, else the first
// safetensors base; its header is the prefix for the target's.
TensorPlan PlanTensorDelta(std::span<const uint8_t> target, const SafetensorsLayout& layout,
                           std::span<const PlanBase> bases, size_t primary);

}  // namespace ferry::delta
