// The safetensors layout: an 8-byte little-endian header length N, N bytes of
// JSON naming each tensor's dtype, shape and [begin, end) offsets into the
// data section that follows, and an optional "__metadata__" map of strings.
//
// The parser is strict, because its input may be hostile: the header fits in
// the file and in kMaxHeaderBytes; it is a JSON object; every tensor has
// exactly a known dtype, a shape of non-negative integers and two offsets;
// shape x dtype size equals the byte length (no overflow); tensors lie inside
// the data section and do not overlap. Bytes the tensors do not cover (gaps,
// a tail) are allowed; the delta codec carries them verbatim.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/common/result.h"

namespace ferry::delta {

inline constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct TensorInfo {
  std::string name;
  std::string dtype;
  std::vector<uint64_t> shape;
  uint64_t begin = 0;  // absolute offsets in the file
  uint64_t end = 0;
};

struct SafetensorsLayout {
  uint64_t data_start = 0;          // 8 + the header length
  std::vector<TensorInfo> tensors;  // by begin offset
  std::map<std::string, std::string> metadata;
};

// Bytes per element of a safetensors dtype, or nullopt for a name it lacks.
std::optional<uint64_t> DtypeSize(std::string_view dtype);

// Parses and validates the layout of `file` (the whole file's bytes).
Result<SafetensorsLayout> ParseSafetensors(std::span<const uint8_t> file);

// For tests and tools that write files: the length prefix and JSON header of a
// file holding `tensors` back to back in the given order, padded with spaces
// so the data section starts 8-byte aligned.
struct TensorSpec {
  std::string name;
  std::string dtype;
  std::vector<uint64_t> shape;
};
std::string BuildSafetensorsHeader(std::span<const TensorSpec> tensors,
                                   const std::map<std::string, std::string>& metadata = {});

}  // namespace ferry::delta
