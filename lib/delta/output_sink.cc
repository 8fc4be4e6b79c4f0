#include "lib/delta/output_sink.h"

#include <algorithm>

namespace ferry::delta {
namespace {

// Large enough that write() and the hash run in long strides, small enough to
// stay in the L2 cache between decoding and hashing.
constexpr size_t kBufferSize = size_t{1} << 20;
// Below this much free space Room() flushes first, so callers always get room
// for a useful run of elements.
constexpr size_t kMinimumRoom = 4096;

}  // namespace

Error CorruptDelta(const std::string& what) {
  return MakeError(ErrorCode::kCorrupt,
                   "corrupt delta: " + what + " (fetch the delta again, or fetch full objects)");
}

OutputSink::OutputSink(UniqueFd fd, std::filesystem::path path, uint64_t declared_size)
    : fd_(std::move(fd)),
      path_(std::move(path)),
      declared_size_(declared_size),
      buffer_(kBufferSize) {}

Result<std::span<uint8_t>> OutputSink::Room() {
  if (buffer_.size() - fill_ < kMinimumRoom) {
    if (Status s = Flush(); !s) return s.error();
  }
  const uint64_t allowed = declared_size_ - std::min(declared_size_, size());
  return std::span(buffer_).subspan(fill_, std::min<uint64_t>(buffer_.size() - fill_, allowed));
}

Status OutputSink::Append(std::span<const uint8_t> bytes) {
  if (bytes.size() > declared_size_ - std::min(declared_size_, size())) {
    return CorruptDelta("it writes past the target size it declares");
  }
  if (bytes.size() <= buffer_.size() - fill_) {
    std::copy(bytes.begin(), bytes.end(), buffer_.begin() + static_cast<ptrdiff_t>(fill_));
    fill_ += bytes.size();
    return OkStatus();
  }
  if (Status s = Flush(); !s) return s;
  // In buffer-sized strides, so each piece is still cached when write() reads it.
  for (size_t at = 0; at < bytes.size(); at += buffer_.size()) {
    std::span<const uint8_t> piece = bytes.subspan(at, std::min(buffer_.size(), bytes.size() - at));
    flushed_ += piece.size();
    if (Status s = WriteOut(piece); !s) return s;
  }
  return OkStatus();
}

Status OutputSink::Flush() {
  if (fill_ == 0) return OkStatus();
  const size_t bytes = fill_;
  fill_ = 0;
  flushed_ += bytes;
  return WriteOut(std::span(buffer_).first(bytes));
}

Status OutputSink::WriteOut(std::span<const uint8_t> bytes) {
  hash_.Update(bytes);
  return WriteAll(fd_.get(), bytes, path_);
}

Result<Sha256Digest> OutputSink::Finish() {
  if (Status s = Flush(); !s) return s.error();
  return hash_.Finish();
}

}  // namespace ferry::delta
