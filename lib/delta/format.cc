#include "lib/delta/format.h"

#include <algorithm>

#include "lib/delta/output_sink.h"

namespace ferry::delta {
namespace {

constexpr size_t kChecksumBytes = 8;

std::span<const uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

}  // namespace

void WriteDeltaHeader(const DeltaHeader& header, WireWriter& out) {
  const size_t start = out.size();
  out.Bytes(AsBytes(kMagic));
  out.U16(kFormatVersion);
  out.U8(static_cast<uint8_t>(header.kind));
  out.U64(header.target_size);
  out.Bytes(header.target_sha256);
  out.U16(static_cast<uint16_t>(header.bases.size()));
  for (const BaseRef& base : header.bases) {
    out.ShortString(base.name);
    out.U64(base.size);
    out.Bytes(base.sha256);
  }
  const Sha256Digest checksum = Sha256Of(std::span(out.bytes()).subspan(start));
  out.Bytes(std::span(checksum).first(kChecksumBytes));
}

Result<DeltaHeader> ReadDeltaHeader(WireReader& in) {
  const size_t start = in.offset();
  std::span<const uint8_t> magic = in.Bytes(kMagic.size());
  if (!in.ok() || !std::equal(magic.begin(), magic.end(), AsBytes(kMagic).begin())) {
    return MakeError(ErrorCode::kInvalidArgument, "not a Ferry delta (the magic bytes differ)");
  }
  const uint16_t version = in.U16();
  if (in.ok() && version != kFormatVersion) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "delta format version " + std::to_string(version) + ", this build reads " +
                         std::to_string(kFormatVersion) + " (use a matching ferry release)");
  }
  DeltaHeader header;
  const uint8_t kind = in.U8();
  header.kind = static_cast<DeltaKind>(kind);
  header.target_size = in.U64();
  std::span<const uint8_t> digest = in.Bytes(32);
  if (in.ok()) std::copy(digest.begin(), digest.end(), header.target_sha256.begin());
  const uint16_t base_count = in.U16();
  if (base_count > kMaxBases) in.Fail();
  for (uint16_t b = 0; b < base_count && in.ok(); ++b) {
    BaseRef& base = header.bases.emplace_back();
    base.name = in.ShortString();
    base.size = in.U64();
    digest = in.Bytes(32);
    if (in.ok()) std::copy(digest.begin(), digest.end(), base.sha256.begin());
  }
  if (!in.ok()) return CorruptDelta("the header ends early");
  const Sha256Digest expected = Sha256Of(in.ReadSince(start));
  std::span<const uint8_t> checksum = in.Bytes(kChecksumBytes);
  if (!in.ok()) return CorruptDelta("the header ends early");
  if (!std::equal(checksum.begin(), checksum.end(), expected.begin())) {
    return CorruptDelta("the header checksum does not match");
  }
  if (kind != static_cast<uint8_t>(DeltaKind::kGeneric) &&
      kind != static_cast<uint8_t>(DeltaKind::kTensor)) {
    return CorruptDelta("unknown delta kind " + std::to_string(kind));
  }
  return header;
}

}  // namespace ferry::delta
