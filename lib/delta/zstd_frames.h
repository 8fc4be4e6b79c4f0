// zstd frames as the delta format uses them, each optionally compressed
// against a prefix (zstd's refPrefix: the bytes are a window the frame's
// matches may reach into, never copied, as `zstd --patch-from` does).
//
// - Small frames (header JSON, gaps) decode in a stream into the OutputSink;
//   their window is capped at kSmallFrameWindowLog, so a hostile frame cannot
//   make the decoder allocate more.
// - The generic delta is one frame over a whole file against a whole base,
//   with long-distance matching; it is decoded in one call straight into the
//   output's own pages, so its window costs no anonymous memory either.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "lib/common/result.h"
#include "lib/delta/output_sink.h"

namespace ferry::delta {

inline constexpr int kSmallFrameWindowLog = 22;
// Literal runs are cut into frames of at most this much output.
inline constexpr size_t kMaxSmallFrameBytes = size_t{1} << 20;

// One frame of `data` (at most kMaxSmallFrameBytes) with `prefix` (at most
// as long) as reference.
Result<std::vector<uint8_t>> CompressSmallFrame(std::span<const uint8_t> data,
                                                std::span<const uint8_t> prefix, int level);
// Decodes such a frame into `sink`; it must produce exactly `size` bytes.
Status DecompressSmallFrame(std::span<const uint8_t> frame, std::span<const uint8_t> prefix,
                            uint64_t size, OutputSink& sink);

// One frame of all of `target` against all of `base`.
Result<std::vector<uint8_t>> CompressGenericFrame(std::span<const uint8_t> target,
                                                  std::span<const uint8_t> base, int level);
// Decodes a generic frame into `out`, which it must fill exactly.
Status DecompressGenericFrame(std::span<const uint8_t> frame, std::span<const uint8_t> base,
                              std::span<uint8_t> out);

}  // namespace ferry::delta
