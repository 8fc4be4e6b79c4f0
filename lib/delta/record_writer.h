// Writes the body of a tensor-aware delta from its plan (tensor_plan.h):
// copy records, zstd records for literal bytes, and numeric segments, in
// target order, then the end record.
//
// Numeric steps are grouped into segments: a tensor of kOwnSegmentElements
// or more gets segments (and context models) of its own, cut into equal
// chunks of at most MaxSegmentElements(width); runs of smaller tensors of one
// element type share one. Segments are encoded in batches on several
// threads (they are independent) and written in order, so the output does
// not depend on the thread count; memory holds one batch.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "lib/delta/delta_file_writer.h"
#include "lib/delta/numeric_segment.h"
#include "lib/delta/tensor_plan.h"
#include "lib/delta/wire.h"

namespace ferry::delta {

inline constexpr uint64_t kOwnSegmentElements = uint64_t{1} << 16;

class RecordWriter {
 public:
  // `bases[b]` holds the bytes of plan base b, `header_index[b]` its index in
  // the delta header. `threads` encode segments (at least one).
  RecordWriter(DeltaFileWriter& file, std::span<const uint8_t> target,
               std::vector<std::span<const uint8_t>> bases, std::vector<uint32_t> header_index,
               int zstd_level, int threads);

  Status Write(std::span<const PlanStep> steps);

 private:
  // A record ready to write, or a segment still to encode (pieces non-empty).
  struct Pending {
    WireWriter bytes;
    ElementType type{};
    std::vector<SegmentPiece> pieces;
  };

  uint64_t BaseField(const std::optional<size_t>& base) const;
  void AddCopy(const PlanStep& step);
  Status AddLiteral(const PlanStep& step);
  Status AddNumeric(const PlanStep& step);
  Status CloseSegment();
  Status Flush();

  DeltaFileWriter& file_;
  std::span<const uint8_t> target_;
  std::vector<std::span<const uint8_t>> bases_;
  std::vector<uint32_t> header_index_;
  int zstd_level_;
  std::vector<SegmentWriter> writers_;  // one per thread
  std::vector<Pending> pending_;
  size_t pending_segments_ = 0;
  Pending open_segment_;  // small tensors waiting for more of their kind
  uint64_t open_elements_ = 0;
};

}  // namespace ferry::delta
