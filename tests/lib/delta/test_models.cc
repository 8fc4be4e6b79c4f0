#include "tests/lib/delta/test_models.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "lib/delta/safetensors.h"

namespace ferry::delta::testing {
namespace {

uint16_t FloatToHalf(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  const uint32_t sign = (bits >> 16) & 0x8000;
  const int exponent = static_cast<int>((bits >> 23) & 0xff) - 127 + 15;
  uint32_t mantissa = bits & 0x7fffff;
  if (exponent >= 31) return static_cast<uint16_t>(sign | 0x7c00);
  if (exponent <= 0) {
    if (exponent < -10) return static_cast<uint16_t>(sign);
    mantissa |= 0x800000;
    return static_cast<uint16_t>(sign | (mantissa >> (14 - exponent)));
  }
  return static_cast<uint16_t>(sign | static_cast<uint32_t>(exponent) << 10 | mantissa >> 13);
}

float HalfToFloat(uint16_t half) {
  const uint32_t sign = uint32_t{half & 0x8000u} << 16;
  const int exponent = (half >> 10) & 0x1f;
  const uint32_t mantissa = half & 0x3ffu;
  if (exponent == 0) return (sign ? -1.0f : 1.0f) * std::ldexp(static_cast<float>(mantissa), -24);
  if (exponent == 31) return std::bit_cast<float>(sign | 0x7f800000u | mantissa << 13);
  return std::bit_cast<float>(sign | static_cast<uint32_t>(exponent - 15 + 127) << 23 |
                              mantissa << 13);
}

uint16_t FloatToBFloat16(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  return static_cast<uint16_t>((bits + 0x7fff + ((bits >> 16) & 1)) >>
                               16);  // nearest, ties to even
}

float BFloat16ToFloat(uint16_t value) { return std::bit_cast<float>(uint32_t{value} << 16); }

size_t SizeOf(const std::string& dtype) {
  const std::optional<uint64_t> size = DtypeSize(dtype);
  if (!size) throw std::invalid_argument("unknown dtype " + dtype);
  return static_cast<size_t>(*size);
}

// Reads element k as a double (floats) or as its integer value.
double Get(const std::string& dtype, std::span<const uint8_t> bytes, size_t k) {
  const size_t width = SizeOf(dtype);
  uint64_t raw = 0;
  std::memcpy(&raw, bytes.data() + k * width, width);
  if (dtype == "F32") return std::bit_cast<float>(static_cast<uint32_t>(raw));
  if (dtype == "F64") return std::bit_cast<double>(raw);
  if (dtype == "F16") return HalfToFloat(static_cast<uint16_t>(raw));
  if (dtype == "BF16") return BFloat16ToFloat(static_cast<uint16_t>(raw));
  return static_cast<double>(raw);
}

void Set(const std::string& dtype, std::span<uint8_t> bytes, size_t k, double value) {
  const size_t width = SizeOf(dtype);
  uint64_t raw;
  if (dtype == "F32") {
    raw = std::bit_cast<uint32_t>(static_cast<float>(value));
  } else if (dtype == "F64") {
    raw = std::bit_cast<uint64_t>(value);
  } else if (dtype == "F16") {
    raw = FloatToHalf(static_cast<float>(value));
  } else if (dtype == "BF16") {
    raw = FloatToBFloat16(static_cast<float>(value));
  } else {
    raw = static_cast<uint64_t>(static_cast<int64_t>(value));  // wraps like the integer types
  }
  std::memcpy(bytes.data() + k * width, &raw, width);
}

bool IsFloat(const std::string& dtype) {
  return dtype == "F16" || dtype == "BF16" || dtype == "F32" || dtype == "F64";
}

}  // namespace

void WriteSafetensors(const std::filesystem::path& path, const std::vector<TestTensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::vector<TensorSpec> specs;
  for (const TestTensor& tensor : tensors)
    specs.push_back({tensor.name, tensor.dtype, tensor.shape});
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << BuildSafetensorsHeader(specs, metadata);
  for (const TestTensor& tensor : tensors) {
    out.write(reinterpret_cast<const char*>(tensor.bytes.data()),
              static_cast<std::streamsize>(tensor.bytes.size()));
  }
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::vector<uint8_t> RandomWeights(const std::string& dtype, size_t count, std::mt19937_64& random,
                                   double scale) {
  std::vector<uint8_t> bytes(count * SizeOf(dtype));
  if (!IsFloat(dtype)) {
    for (uint8_t& byte : bytes) byte = static_cast<uint8_t>(random());
    return bytes;
  }
  std::normal_distribution<double> normal(0.0, scale);
  for (size_t k = 0; k < count; ++k) Set(dtype, bytes, k, normal(random));
  return bytes;
}

std::vector<uint8_t> Perturb(const std::string& dtype, std::span<const uint8_t> weights,
                             std::mt19937_64& random, double step) {
  std::vector<uint8_t> bytes(weights.begin(), weights.end());
  const size_t count = bytes.size() / SizeOf(dtype);
  std::normal_distribution<double> normal(0.0, step);
  std::uniform_int_distribution<int> nudge(-1, 1);
  for (size_t k = 0; k < count; ++k) {
    const double value = Get(dtype, bytes, k);
    Set(dtype, bytes, k, IsFloat(dtype) ? value + normal(random) : value + nudge(random));
  }
  return bytes;
}

TestTensor RandomTensor(const std::string& name, const std::string& dtype,
                        std::vector<uint64_t> shape, std::mt19937_64& random) {
  size_t count = 1;
  for (uint64_t dimension : shape) count *= dimension;
  return {name, dtype, std::move(shape), RandomWeights(dtype, count, random)};
}

std::vector<uint8_t> ReadBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace ferry::delta::testing
