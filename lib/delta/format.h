// The framing of a delta file (docs/delta-format.md has every byte):
//
//   header   magic "FERRYDLT", format version, kind, the target's size and
//            SHA-256, and name, size and SHA-256 of every base the body uses,
//            closed by the first 8 bytes of the SHA-256 of all that, so a
//            damaged header is told apart from a wrong base
//   body     generic: the index of the reference base, then one zstd frame
//            tensor:  records (copy, zstd, segment), ended by an end record
//   trailer  the SHA-256 of every byte before it, so that any damage to the
//            file, even to bits the decoder would not notice, is rejected
//
// Readers accept exactly kFormatVersion; a later version changes the number.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/common/result.h"
#include "lib/common/sha256.h"
#include "lib/delta/wire.h"

namespace ferry::delta {

inline constexpr std::string_view kMagic = "FERRYDLT";
inline constexpr uint16_t kFormatVersion = 1;
inline constexpr size_t kTrailerBytes = 32;
// Far more than any checkpoint has files; bounds what a damaged count costs.
inline constexpr size_t kMaxBases = 4096;
inline constexpr size_t kMaxBaseNameBytes = 65535;  // the name's length is a u16

enum class DeltaKind : uint8_t { kGeneric = 1, kTensor = 2 };

enum class RecordTag : uint8_t {
  kEnd = 0,
  kCopy = 1,     // bytes of a base, verbatim
  kZstd = 2,     // a zstd frame, optionally with a range of a base as its prefix
  kSegment = 3,  // a numeric segment (numeric_segment.h)
};

// Names the absence of a base in a record's base field (stored as index + 1).
inline constexpr uint64_t kNoBaseField = 0;

struct BaseRef {
  std::string name;
  uint64_t size = 0;
  Sha256Digest sha256{};
};

struct DeltaHeader {
  DeltaKind kind = DeltaKind::kTensor;
  uint64_t target_size = 0;
  Sha256Digest target_sha256{};
  std::vector<BaseRef> bases;
};

void WriteDeltaHeader(const DeltaHeader& header, WireWriter& out);
// Reads and checks the header at the start of `in`, leaving it at the body.
Result<DeltaHeader> ReadDeltaHeader(WireReader& in);

}  // namespace ferry::delta
