#include "lib/delta/record_writer.h"

#include <algorithm>
#include <atomic>
#include <system_error>
#include <thread>

#include "lib/delta/format.h"
#include "lib/delta/zstd_frames.h"

namespace ferry::delta {

RecordWriter::RecordWriter(DeltaFileWriter& file, std::span<const uint8_t> target,
                           std::vector<std::span<const uint8_t>> bases,
                           std::vector<uint32_t> header_index, int zstd_level, int threads)
    : file_(file),
      target_(target),
      bases_(std::move(bases)),
      header_index_(std::move(header_index)),
      zstd_level_(zstd_level),
      writers_(static_cast<size_t>(std::max(1, threads))) {}

Status RecordWriter::Write(std::span<const PlanStep> steps) {
  for (const PlanStep& step : steps) {
    if (step.kind == PlanStep::Kind::kNumeric) {
      if (Status s = AddNumeric(step); !s) return s;
      continue;
    }
    if (Status s = CloseSegment(); !s) return s;
    if (step.kind == PlanStep::Kind::kCopy) {
      AddCopy(step);
    } else if (Status s = AddLiteral(step); !s) {
      return s;
    }
  }
  if (Status s = CloseSegment(); !s) return s;
  pending_.emplace_back().bytes.U8(static_cast<uint8_t>(RecordTag::kEnd));
  return Flush();
}

uint64_t RecordWriter::BaseField(const std::optional<size_t>& base) const {
  return base ? uint64_t{header_index_[*base]} + 1 : kNoBaseField;
}

void RecordWriter::AddCopy(const PlanStep& step) {
  WireWriter& record = pending_.emplace_back().bytes;
  record.U8(static_cast<uint8_t>(RecordTag::kCopy));
  record.Varint(BaseField(step.base));
  record.Varint(step.base_offset);
  record.Varint(step.end - step.begin);
}

Status RecordWriter::AddLiteral(const PlanStep& step) {
  std::span<const uint8_t> prefix;
  if (step.base) prefix = bases_[*step.base].subspan(step.base_offset, step.base_length);
  for (uint64_t at = step.begin; at < step.end; at += kMaxSmallFrameBytes) {
    std::span<const uint8_t> data =
        target_.subspan(at, std::min<uint64_t>(kMaxSmallFrameBytes, step.end - at));
    Result<std::vector<uint8_t>> frame = CompressSmallFrame(data, prefix, zstd_level_);
    if (!frame) return frame.error();
    WireWriter& record = pending_.emplace_back().bytes;
    record.U8(static_cast<uint8_t>(RecordTag::kZstd));
    record.Varint(prefix.empty() ? kNoBaseField : BaseField(step.base));
    record.Varint(prefix.empty() ? 0 : step.base_offset);
    record.Varint(prefix.size());
    record.Varint(data.size());
    record.Varint(frame->size());
    record.Bytes(*frame);
    prefix = {};  // only the frame holding the header start resembles the base's header
  }
  return OkStatus();
}

Status RecordWriter::AddNumeric(const PlanStep& step) {
  const uint64_t width = static_cast<uint64_t>(TraitsOf(step.type)->width);
  const uint64_t elements = (step.end - step.begin) / width;
  const bool own = elements >= kOwnSegmentElements;
  if (!open_segment_.pieces.empty() &&
      (own || step.type != open_segment_.type || open_segment_.pieces.size() == kMaxSegmentPieces ||
       open_elements_ + elements > MaxSegmentElements(width))) {
    if (Status s = CloseSegment(); !s) return s;
  }
  const uint64_t chunks = (elements + MaxSegmentElements(width) - 1) / MaxSegmentElements(width);
  for (uint64_t chunk = 0; chunk < chunks; ++chunk) {
    const uint64_t first = elements * chunk / chunks, last = elements * (chunk + 1) / chunks;
    SegmentPiece piece;
    piece.target = target_.subspan(step.begin + first * width, (last - first) * width);
    if (step.base) {
      piece.base_index = header_index_[*step.base];
      piece.base_offset = step.base_offset + first * width;
      piece.base = bases_[*step.base].subspan(piece.base_offset, piece.target.size());
    }
    open_segment_.type = step.type;
    open_segment_.pieces.push_back(piece);
    open_elements_ += last - first;
    if (own) {
      if (Status s = CloseSegment(); !s) return s;
    }
  }
  return OkStatus();
}

Status RecordWriter::CloseSegment() {
  if (open_segment_.pieces.empty()) return OkStatus();
  pending_.push_back(std::move(open_segment_));
  open_segment_ = {};
  open_elements_ = 0;
  // Two segments a thread, so a thread that finishes early finds more work.
  if (++pending_segments_ < 2 * writers_.size()) return OkStatus();
  return Flush();
}

Status RecordWriter::Flush() {
  std::vector<Pending*> jobs;
  for (Pending& record : pending_) {
    if (!record.pieces.empty()) jobs.push_back(&record);
  }
  std::atomic<size_t> next{0};
  auto work = [&](SegmentWriter& writer) {
    for (size_t job = next++; job < jobs.size(); job = next++) {
      jobs[job]->bytes.U8(static_cast<uint8_t>(RecordTag::kSegment));
      writer.Encode(jobs[job]->type, jobs[job]->pieces, jobs[job]->bytes);
    }
  };
  {
    std::vector<std::jthread> helpers;
    for (size_t t = 1; t < writers_.size() && t < jobs.size(); ++t) {
      try {
        helpers.emplace_back(work, std::ref(writers_[t]));
      } catch (const std::system_error&) {
        break;  // no more threads to be had: the others do the work
      }
    }
    work(writers_[0]);
  }  // joins the helpers
  for (const Pending& record : pending_) {
    if (Status s = file_.Write(record.bytes.bytes()); !s) return s;
  }
  pending_.clear();
  pending_segments_ = 0;
  return OkStatus();
}

}  // namespace ferry::delta
