// A numeric segment: a run of target elements of one ElementType, coded
// against paired base elements (or against zeros, for tensors with no usable
// partner). docs/delta-format.md lays it out byte by byte.
//
// Each element is split into a symbol, entropy-coded with rANS under the
// model of its context, and raw low bits stored as they are:
//   context  = the key of the base element (its exponent, for floats)
//   value    = zigzag(ordered(target) - predictor), where the context's mode
//              picks the predictor: ordered(base), or ordered(0) for contexts
//              whose weights are so small that an update crosses zero and
//              the target is better coded on its own
//   symbol   = value >> raw_bits, or 255 (escape) when that is >= 255; an
//              escape's full value >> raw_bits follows its raw bits
// The decoder knows every base element, so it derives each element's context
// itself and decodes in file order: no permutation travels, and output is
// written front to back in bounded blocks.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "lib/common/result.h"
#include "lib/delta/element.h"
#include "lib/delta/output_sink.h"
#include "lib/delta/wire.h"

namespace ferry::delta {

// A segment holds at most this many elements and this many bytes of target
// data. The first bounds the encoder's working memory (a few bytes an
// element), the second the decoder's when it copies a stream (see
// segment_decoder.cc).
inline constexpr uint64_t kMaxSegmentElements = uint64_t{1} << 22;
inline constexpr uint64_t kMaxSegmentBytes = uint64_t{1} << 23;

// The most elements of `width` bytes a segment holds.
constexpr uint64_t MaxSegmentElements(uint64_t width) {
  return std::min(kMaxSegmentElements, kMaxSegmentBytes / width);
}
// Bounds what a hostile segment header can make the decoder allocate; the
// encoder starts a new segment when a run of small tensors reaches it.
inline constexpr uint64_t kMaxSegmentPieces = 65536;
inline constexpr uint32_t kZeroBase = 0xffffffff;

struct SegmentPiece {
  std::span<const uint8_t> target;  // whole elements
  std::span<const uint8_t> base;    // as many bytes as `target`, or empty for zeros
  uint32_t base_index = kZeroBase;
  uint64_t base_offset = 0;  // of `base` within its file
};

// Encodes segments. Its buffers, each about as large as a segment's data,
// are kept from one segment to the next.
class SegmentWriter {
 public:
  // Appends the segment (everything after its record tag) to `out`. There
  // are at most kMaxSegmentPieces pieces, holding at most
  // MaxSegmentElements(width) elements in all.
  void Encode(ElementType type, std::span<const SegmentPiece> pieces, WireWriter& out);

 private:
  std::vector<uint8_t> symbols_;  // one per element
  std::vector<uint8_t> raw_;      // the raw stream
  std::vector<uint8_t> coded_;    // the rANS stream, written back to front
};

// Decodes the segment at `in` into `sink`. `delta` is the whole mapped delta
// (the decoder reads a little past a stream's end where the mapping allows);
// `bases[i]` holds the bytes of base i.
Status DecodeSegment(WireReader& in, std::span<const uint8_t> delta,
                     std::span<const std::span<const uint8_t>> bases, OutputSink& sink);

}  // namespace ferry::delta
