// EncodeFile: maps the target and the bases, decides between a tensor-aware
// and a generic delta, and writes the delta record by record, so memory holds
// at most one numeric segment's working set.
#include <algorithm>
#include <optional>
#include <thread>

#include "lib/common/file.h"
#include "lib/delta/delta.h"
#include "lib/delta/delta_file_writer.h"
#include "lib/delta/format.h"
#include "lib/delta/output_path.h"
#include "lib/delta/record_writer.h"
#include "lib/delta/safetensors.h"
#include "lib/delta/tensor_plan.h"
#include "lib/delta/zstd_frames.h"

namespace ferry::delta {
namespace {

// Threads for segments when the options leave it open: one per core, up to
// this many (each holds a few segments' worth of buffers).
constexpr int kMaxThreads = 8;

struct OpenBase {
  const BaseFile* file = nullptr;
  MappedFile map;
  std::optional<SafetensorsLayout> layout;
};

// The base whose name ends in the target's file name, else the first
// acceptable one (a safetensors base when `need_layout`).
std::optional<size_t> PrimaryBase(const std::vector<OpenBase>& bases,
                                  const std::filesystem::path& target, bool need_layout) {
  std::optional<size_t> first;
  for (size_t b = 0; b < bases.size(); ++b) {
    if (need_layout && !bases[b].layout) continue;
    if (std::filesystem::path(bases[b].file->name).filename() == target.filename()) return b;
    if (!first) first = b;
  }
  return first;
}

}  // namespace

Result<EncodeStats> EncodeFile(std::span<const BaseFile> bases, const std::filesystem::path& target,
                               const std::filesystem::path& delta_out,
                               const EncodeOptions& options) {
  std::vector<std::filesystem::path> inputs{target};
  for (const BaseFile& base : bases) inputs.push_back(base.path);
  if (Status s = CheckNotAnInput(delta_out, inputs); !s) return s.error();
  Result<MappedFile> target_map = MappedFile::Open(target);
  if (!target_map) return target_map.error();
  std::span<const uint8_t> target_bytes = target_map->bytes();
  std::vector<OpenBase> open;
  for (const BaseFile& base : bases) {
    Result<MappedFile> map = MappedFile::Open(base.path);
    if (!map) return map.error();
    OpenBase& added = open.emplace_back(OpenBase{&base, std::move(*map), std::nullopt});
    if (Result<SafetensorsLayout> layout = ParseSafetensors(added.map.bytes())) {
      added.layout = std::move(*layout);
    }
  }
  Result<SafetensorsLayout> target_layout = ParseSafetensors(target_bytes);
  std::optional<size_t> primary = PrimaryBase(open, target, /*need_layout=*/target_layout.ok());
  const bool tensor_aware = target_layout.ok() && primary.has_value();
  if (!primary) primary = PrimaryBase(open, target, false);

  EncodeStats stats;
  stats.target_bytes = target_bytes.size();
  stats.tensor_aware = tensor_aware;
  std::optional<TensorPlan> plan;
  std::vector<bool> used(open.size(), false);
  if (tensor_aware) {
    std::vector<PlanBase> plan_bases;
    for (const OpenBase& base : open) {
      plan_bases.push_back({base.map.bytes(), base.layout ? &*base.layout : nullptr});
    }
    plan = PlanTensorDelta(target_bytes, *target_layout, plan_bases, *primary);
    for (const PlanStep& step : plan->steps) {
      if (step.base) used[*step.base] = true;
    }
    stats.tensors_unchanged = plan->unchanged;
    stats.tensors_diffed = plan->diffed;
    stats.tensors_fresh = plan->fresh;
  } else if (primary) {
    used[*primary] = true;
  }

  DeltaHeader header;
  header.kind = tensor_aware ? DeltaKind::kTensor : DeltaKind::kGeneric;
  header.target_size = target_bytes.size();
  header.target_sha256 = Sha256Of(target_bytes);
  std::vector<uint32_t> header_index(open.size(), 0);
  for (size_t b = 0; b < open.size(); ++b) {
    if (!used[b]) continue;
    header_index[b] = static_cast<uint32_t>(header.bases.size());
    if (open[b].file->name.size() > kMaxBaseNameBytes) {
      return MakeError(ErrorCode::kInvalidArgument, "base name longer than " +
                                                        std::to_string(kMaxBaseNameBytes) +
                                                        " bytes: " + open[b].file->name);
    }
    header.bases.push_back({open[b].file->name, open[b].map.size(), Sha256Of(open[b].map.bytes())});
  }
  if (header.bases.size() > kMaxBases) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "a delta references at most " + std::to_string(kMaxBases) + " bases");
  }

  Result<UniqueFd> out = CreateForWrite(delta_out);
  if (!out) return out.error();
  ScopedRemoval removal(delta_out);
  DeltaFileWriter file(std::move(*out), delta_out);
  WireWriter head;
  WriteDeltaHeader(header, head);
  if (tensor_aware) {
    if (Status s = file.Write(head.bytes()); !s) return s.error();
    std::vector<std::span<const uint8_t>> base_bytes;
    for (const OpenBase& base : open) base_bytes.push_back(base.map.bytes());
    const int threads =
        options.threads > 0
            ? options.threads
            : std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, kMaxThreads);
    RecordWriter records(file, target_bytes, std::move(base_bytes), header_index,
                         options.zstd_level, threads);
    if (Status s = records.Write(plan->steps); !s) return s.error();
  } else {
    head.Varint(primary ? 1 : kNoBaseField);
    if (Status s = file.Write(head.bytes()); !s) return s.error();
    std::span<const uint8_t> reference =
        primary ? open[*primary].map.bytes() : std::span<const uint8_t>();
    Result<std::vector<uint8_t>> frame =
        CompressGenericFrame(target_bytes, reference, options.zstd_level);
    if (!frame) return frame.error();
    if (Status s = file.Write(*frame); !s) return s.error();
  }
  if (Status s = file.Finish(); !s) return s.error();
  removal.Keep();
  stats.delta_bytes = file.written();
  return stats;
}

}  // namespace ferry::delta
