#include "lib/delta/tensor_plan.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "lib/delta/zstd_frames.h"

namespace ferry::delta {
namespace {

struct Partner {
  size_t base;
  const TensorInfo* tensor;
};

// Each tensor name's partner: in the primary base if it has the name, else in
// the first base that does.
std::unordered_map<std::string_view, Partner> IndexPartners(std::span<const PlanBase> bases,
                                                            size_t primary) {
  std::unordered_map<std::string_view, Partner> partners;
  auto add = [&](size_t b) {
    if (bases[b].layout == nullptr) return;
    for (const TensorInfo& tensor : bases[b].layout->tensors) {
      partners.try_emplace(tensor.name, Partner{b, &tensor});
    }
  };
  add(primary);
  for (size_t b = 0; b < bases.size(); ++b) add(b);
  return partners;
}

void Append(std::vector<PlanStep>& steps, PlanStep step) {
  if (!steps.empty()) {
    PlanStep& last = steps.back();
    const bool literals = last.kind == PlanStep::Kind::kLiteral && step.kind == last.kind;
    const bool contiguous_copies = last.kind == PlanStep::Kind::kCopy && step.kind == last.kind &&
                                   last.base == step.base &&
                                   last.base_offset + (last.end - last.begin) == step.base_offset;
    if (literals || contiguous_copies) {
      last.end = step.end;
      return;
    }
  }
  steps.push_back(step);
}

}  // namespace

TensorPlan PlanTensorDelta(std::span<const uint8_t> target, const SafetensorsLayout& layout,
                           std::span<const PlanBase> bases, size_t primary) {
  TensorPlan plan;
  PlanStep header{PlanStep::Kind::kLiteral, 0, layout.data_start, std::nullopt, 0, 0, {}};
  const uint64_t primary_header = bases[primary].layout->data_start;
  // A prefix longer than a small frame's window would not be reachable.
  if (primary_header <= kMaxSmallFrameBytes && layout.data_start <= kMaxSmallFrameBytes) {
    header.base = primary;
    header.base_length = primary_header;
  }
  plan.steps.push_back(header);

  const auto partners = IndexPartners(bases, primary);
  uint64_t position = layout.data_start;
  for (const TensorInfo& tensor : layout.tensors) {
    if (tensor.begin == tensor.end) continue;
    if (tensor.begin > position) {
      Append(plan.steps,
             {PlanStep::Kind::kLiteral, position, tensor.begin, std::nullopt, 0, 0, {}});
    }
    position = tensor.end;
    const ElementType type = *ElementTypeForDtype(tensor.dtype);
    const auto found = partners.find(tensor.name);
    const bool paired =
        found != partners.end() && found->second.tensor->dtype == tensor.dtype &&
        found->second.tensor->end - found->second.tensor->begin == tensor.end - tensor.begin;
    if (!paired) {
      ++plan.fresh;
      Append(plan.steps,
             {PlanStep::Kind::kNumeric, tensor.begin, tensor.end, std::nullopt, 0, 0, type});
      continue;
    }
    const Partner& partner = found->second;
    const uint64_t length = tensor.end - tensor.begin;
    const bool equal =
        std::memcmp(target.data() + tensor.begin,
                    bases[partner.base].bytes.data() + partner.tensor->begin, length) == 0;
    ++(equal ? plan.unchanged : plan.diffed);
    Append(plan.steps, {equal ? PlanStep::Kind::kCopy : PlanStep::Kind::kNumeric, tensor.begin,
                        tensor.end, partner.base, partner.tensor->begin, 0, type});
  }
  if (position < target.size()) {
    Append(plan.steps, {PlanStep::Kind::kLiteral, position, target.size(), std::nullopt, 0, 0, {}});
  }
  return plan;
}

}  // namespace ferry::delta
