#include "lib/delta/safetensors.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "lib/delta/wire.h"

namespace ferry::delta {
namespace {

using nlohmann::json;

Error Malformed(const std::string& what) {
  return MakeError(ErrorCode::kInvalidArgument, "not a valid safetensors file: " + what);
}

// a * b, or nullopt when it does not fit in 64 bits.
std::optional<uint64_t> Multiply(uint64_t a, uint64_t b) {
  uint64_t product;
  if (__builtin_mul_overflow(a, b, &product)) return std::nullopt;
  return product;
}

Result<TensorInfo> ParseTensor(const std::string& name, const json& entry, uint64_t data_start,
                               uint64_t data_size) {
  const std::string where = "tensor '" + name + "'";
  if (!entry.is_object() || entry.size() != 3 || !entry.contains("dtype") ||
      !entry.contains("shape") || !entry.contains("data_offsets")) {
    return Malformed(where + " must have exactly dtype, shape and data_offsets");
  }
  const json& dtype = entry["dtype"];
  if (!dtype.is_string()) return Malformed(where + ": dtype is not a string");
  TensorInfo tensor{name, dtype.get<std::string>(), {}, 0, 0};
  std::optional<uint64_t> element_size = DtypeSize(tensor.dtype);
  if (!element_size) return Malformed(where + ": unknown dtype '" + tensor.dtype + "'");

  const json& shape = entry["shape"];
  if (!shape.is_array()) return Malformed(where + ": shape is not an array");
  std::optional<uint64_t> bytes = element_size;
  for (const json& dimension : shape) {
    if (!dimension.is_number_unsigned()) {
      return Malformed(where + ": shape holds something other than non-negative integers");
    }
    tensor.shape.push_back(dimension.get<uint64_t>());
    if (bytes) bytes = Multiply(*bytes, tensor.shape.back());
  }
  if (!bytes) return Malformed(where + ": shape x dtype size overflows");

  const json& offsets = entry["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned()) {
    return Malformed(where + ": data_offsets must be two non-negative integers");
  }
  const uint64_t begin = offsets[0].get<uint64_t>();
  const uint64_t end = offsets[1].get<uint64_t>();
  if (begin > end || end > data_size) {
    return Malformed(where + ": data_offsets [" + std::to_string(begin) + ", " +
                     std::to_string(end) + ") lie outside the " + std::to_string(data_size) +
                     "-byte data section");
  }
  if (end - begin != *bytes) {
    return Malformed(where + ": shape and dtype give " + std::to_string(*bytes) +
                     " bytes but data_offsets give " + std::to_string(end - begin));
  }
  tensor.begin = data_start + begin;
  tensor.end = data_start + end;
  return tensor;
}

}  // namespace

std::optional<uint64_t> DtypeSize(std::string_view dtype) {
  static constexpr std::pair<std::string_view, uint64_t> kSizes[] = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"F8_E8M0", 1},
      {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},     {"U32", 4},
      {"F32", 4},  {"I64", 8}, {"U64", 8}, {"F64", 8},
  };
  for (const auto& [name, size] : kSizes) {
    if (name == dtype) return size;
  }
  return std::nullopt;
}

Result<SafetensorsLayout> ParseSafetensors(std::span<const uint8_t> file) {
  if (file.size() < 8) return Malformed("shorter than the 8-byte header length");
  const uint64_t header_size = LoadLittleEndian(file.data(), 8);
  if (header_size > kMaxHeaderBytes) {
    return Malformed("header length " + std::to_string(header_size) + " exceeds the " +
                     std::to_string(kMaxHeaderBytes) + "-byte limit");
  }
  if (header_size > file.size() - 8) {
    return Malformed("header length " + std::to_string(header_size) + " runs past the " +
                     std::to_string(file.size()) + "-byte file");
  }
  const char* text = reinterpret_cast<const char*>(file.data() + 8);
  const json header = json::parse(text, text + header_size, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded()) return Malformed("the header is not valid JSON");
  if (!header.is_object()) return Malformed("the header is not a JSON object");

  SafetensorsLayout layout;
  layout.data_start = 8 + header_size;
  const uint64_t data_size = file.size() - layout.data_start;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) return Malformed("__metadata__ is not an object");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string())
          return Malformed("__metadata__ value of '" + key + "' is not a string");
        layout.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    Result<TensorInfo> tensor = ParseTensor(name, entry, layout.data_start, data_size);
    if (!tensor) return tensor.error();
    layout.tensors.push_back(std::move(*tensor));
  }
  std::sort(layout.tensors.begin(), layout.tensors.end(),
            [](const TensorInfo& a, const TensorInfo& b) {
              return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
            });
  for (size_t i = 1; i < layout.tensors.size(); ++i) {
    if (layout.tensors[i].begin < layout.tensors[i - 1].end) {
      return Malformed("tensors '" + layout.tensors[i - 1].name + "' and '" +
                       layout.tensors[i].name + "' overlap");
    }
  }
  return layout;
}

std::string BuildSafetensorsHeader(std::span<const TensorSpec> tensors,
                                   const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const TensorSpec& tensor : tensors) {
    uint64_t bytes = DtypeSize(tensor.dtype).value_or(1);
    for (uint64_t dimension : tensor.shape) bytes *= dimension;
    header[tensor.name] = {{"dtype", tensor.dtype},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  StoreLittleEndian(reinterpret_cast<uint8_t*>(out.data()), text.size(), 8);
  return out + text;
}

}  // namespace ferry::delta
