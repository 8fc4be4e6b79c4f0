#include "lib/delta/zstd_frames.h"

#include <zstd.h>

#include <algorithm>
#include <bit>
#include <memory>

namespace ferry::delta {
namespace {

struct CompressContextDeleter {
  void operator()(ZSTD_CCtx* context) const { ZSTD_freeCCtx(context); }
};
struct DecompressContextDeleter {
  void operator()(ZSTD_DCtx* context) const { ZSTD_freeDCtx(context); }
};
using CompressContext = std::unique_ptr<ZSTD_CCtx, CompressContextDeleter>;
using DecompressContext = std::unique_ptr<ZSTD_DCtx, DecompressContextDeleter>;

Error ZstdError(const std::string& what, size_t code) {
  return MakeError(ErrorCode::kInternal, what + ": " + ZSTD_getErrorName(code));
}

// Sets up a compression context; the prefix must outlive the next frame.
Result<CompressContext> MakeCompressor(int level, int window_log, bool long_distance,
                                       std::span<const uint8_t> prefix) {
  CompressContext context(ZSTD_createCCtx());
  if (!context) return MakeError(ErrorCode::kInternal, "zstd: out of memory");
  for (const auto& [parameter, value] :
       {std::pair{ZSTD_c_compressionLevel, level}, std::pair{ZSTD_c_windowLog, window_log},
        std::pair{ZSTD_c_enableLongDistanceMatching, long_distance ? 1 : 0}}) {
    const size_t status = ZSTD_CCtx_setParameter(context.get(), parameter, value);
    if (ZSTD_isError(status)) return ZstdError("zstd parameter", status);
  }
  if (!prefix.empty()) {
    const size_t status = ZSTD_CCtx_refPrefix(context.get(), prefix.data(), prefix.size());
    if (ZSTD_isError(status)) return ZstdError("zstd prefix", status);
  }
  return context;
}

Result<DecompressContext> MakeDecompressor(int window_log_max, std::span<const uint8_t> prefix) {
  DecompressContext context(ZSTD_createDCtx());
  if (!context) return MakeError(ErrorCode::kInternal, "zstd: out of memory");
  ZSTD_DCtx_setParameter(context.get(), ZSTD_d_windowLogMax, window_log_max);
  if (!prefix.empty()) {
    const size_t status = ZSTD_DCtx_refPrefix(context.get(), prefix.data(), prefix.size());
    if (ZSTD_isError(status)) return ZstdError("zstd prefix", status);
  }
  return context;
}

Result<std::vector<uint8_t>> Compress(ZSTD_CCtx* context, std::span<const uint8_t> data) {
  std::vector<uint8_t> frame(ZSTD_compressBound(data.size()));
  const size_t size = ZSTD_compress2(context, frame.data(), frame.size(), data.data(), data.size());
  if (ZSTD_isError(size)) return ZstdError("zstd compress", size);
  frame.resize(size);
  return frame;
}

int MaxWindowLog() { return ZSTD_cParam_getBounds(ZSTD_c_windowLog).upperBound; }

}  // namespace

Result<std::vector<uint8_t>> CompressSmallFrame(std::span<const uint8_t> data,
                                                std::span<const uint8_t> prefix, int level) {
  Result<CompressContext> context = MakeCompressor(level, kSmallFrameWindowLog, false, prefix);
  if (!context) return context.error();
  return Compress(context->get(), data);
}

Status DecompressSmallFrame(std::span<const uint8_t> frame, std::span<const uint8_t> prefix,
                            uint64_t size, OutputSink& sink) {
  Result<DecompressContext> context = MakeDecompressor(kSmallFrameWindowLog, prefix);
  if (!context) return context.error();
  ZSTD_inBuffer in{frame.data(), frame.size(), 0};
  const uint64_t start = sink.size();
  size_t pending = 1;  // non-zero until the frame is complete
  while (pending != 0) {
    Result<std::span<uint8_t>> room = sink.Room();
    if (!room) return room.error();
    if (room->empty()) return CorruptDelta("it writes past the target size it declares");
    ZSTD_outBuffer out{room->data(), room->size(), 0};
    const size_t consumed_before = in.pos;
    pending = ZSTD_decompressStream(context->get(), &out, &in);
    if (ZSTD_isError(pending)) {
      return CorruptDelta(std::string("a zstd frame does not decode: ") +
                          ZSTD_getErrorName(pending));
    }
    sink.Commit(out.pos);
    if (pending != 0 && out.pos == 0 && in.pos == consumed_before) {
      return CorruptDelta("a zstd frame ends early");
    }
  }
  if (in.pos != in.size || sink.size() - start != size) {
    return CorruptDelta("a zstd frame decodes to another size than its record says");
  }
  return OkStatus();
}

Result<std::vector<uint8_t>> CompressGenericFrame(std::span<const uint8_t> target,
                                                  std::span<const uint8_t> base, int level) {
  // The window spans base and target, as `zstd --patch-from` sizes it.
  const uint64_t span = std::max<uint64_t>(base.size() + target.size(), 1);
  const int window_log = std::clamp(static_cast<int>(std::bit_width(span - 1)), 10, MaxWindowLog());
  Result<CompressContext> context = MakeCompressor(level, window_log, true, base);
  if (!context) return context.error();
  return Compress(context->get(), target);
}

Status DecompressGenericFrame(std::span<const uint8_t> frame, std::span<const uint8_t> base,
                              std::span<uint8_t> out) {
  Result<DecompressContext> context = MakeDecompressor(MaxWindowLog(), base);
  if (!context) return context.error();
  const size_t size =
      ZSTD_decompressDCtx(context->get(), out.data(), out.size(), frame.data(), frame.size());
  if (ZSTD_isError(size)) {
    return CorruptDelta(std::string("the zstd frame does not decode: ") + ZSTD_getErrorName(size));
  }
  if (size != out.size()) return CorruptDelta("the zstd frame decodes to another size");
  return OkStatus();
}

}  // namespace ferry::delta
