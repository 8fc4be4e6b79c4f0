// How the numeric codec sees one tensor element: an unsigned integer of the
// element's width, mapped so that numeric closeness becomes integer closeness.
//
// - Floats are mapped order-preservingly (negative values flipped, positive
//   ones offset by the sign bit), so a small change of value is a small
//   difference of integers, even across zero. Integers are used as they are;
//   their difference wraps, which is exact for signed and unsigned alike.
// - A difference d (mod 2^bits) travels zigzagged: 0, -1, 1, -2… become
//   0, 1, 2, 3…, so small magnitudes of either sign are small numbers.
// - The context key of a base element is its biased exponent for floats
//   (for f64, shifted and clamped into [0, 256)) and 0 for integers: an update of similar
//   absolute size is many units of the last place for a small weight and few
//   for a large one, so elements with equal exponents behave alike.
// Every mapping is a bijection on all bit patterns (NaNs and infinities too).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

namespace ferry::delta {

// The numeric codecs; the values are part of the delta format.
enum class ElementType : uint8_t {
  kBFloat16 = 1,
  kFloat16 = 2,
  kFloat32 = 3,
  kFloat64 = 4,
  kFloat8E4M3 = 5,
  kFloat8E5M2 = 6,
  kInt8 = 7,
  kInt16 = 8,
  kInt32 = 9,
  kInt64 = 10,
};

struct ElementTraits {
  int width = 0;  // bytes
  bool is_float = false;
  int mantissa_bits = 0;  // floats: the key is (bits >> mantissa_bits) & exponent_mask
  uint32_t exponent_mask = 0;
  int key_offset = 0;  // subtracted from the exponent, then clamped to [0, 255]
};

constexpr std::optional<ElementTraits> TraitsOf(ElementType type) {
  switch (type) {
    case ElementType::kBFloat16:
      return ElementTraits{2, true, 7, 0xff, 0};
    case ElementType::kFloat16:
      return ElementTraits{2, true, 10, 0x1f, 0};
    case ElementType::kFloat32:
      return ElementTraits{4, true, 23, 0xff, 0};
    // Weights live far from the ends of f64's range: keep the 256 exponents
    // up to 2^64 apart and lump the rest.
    case ElementType::kFloat64:
      return ElementTraits{8, true, 52, 0x7ff, 1023 + 64 - 255};
    case ElementType::kFloat8E4M3:
      return ElementTraits{1, true, 3, 0xf, 0};
    case ElementType::kFloat8E5M2:
      return ElementTraits{1, true, 2, 0x1f, 0};
    case ElementType::kInt8:
      return ElementTraits{1, false, 0, 0, 0};
    case ElementType::kInt16:
      return ElementTraits{2, false, 0, 0, 0};
    case ElementType::kInt32:
      return ElementTraits{4, false, 0, 0, 0};
    case ElementType::kInt64:
      return ElementTraits{8, false, 0, 0, 0};
  }
  return std::nullopt;
}
// The codec for a safetensors dtype name; every dtype the parser accepts has one.
std::optional<ElementType> ElementTypeForDtype(std::string_view dtype);

// The unsigned integer type of a width in bytes.
template <int kWidth>
using WordOf = std::conditional_t<
    kWidth == 1, uint8_t,
    std::conditional_t<kWidth == 2, uint16_t, std::conditional_t<kWidth == 4, uint32_t, uint64_t>>>;

// Calls visit(std::integral_constant<ElementType, T>{}) for the runtime `type`
// (which must be valid), so hot loops get the element type as a constant.
template <typename Visit>
decltype(auto) WithElementType(ElementType type, Visit&& visit) {
  using enum ElementType;
  switch (type) {
    case kBFloat16:
      return visit(std::integral_constant<ElementType, kBFloat16>{});
    case kFloat16:
      return visit(std::integral_constant<ElementType, kFloat16>{});
    case kFloat32:
      return visit(std::integral_constant<ElementType, kFloat32>{});
    case kFloat64:
      return visit(std::integral_constant<ElementType, kFloat64>{});
    case kFloat8E4M3:
      return visit(std::integral_constant<ElementType, kFloat8E4M3>{});
    case kFloat8E5M2:
      return visit(std::integral_constant<ElementType, kFloat8E5M2>{});
    case kInt8:
      return visit(std::integral_constant<ElementType, kInt8>{});
    case kInt16:
      return visit(std::integral_constant<ElementType, kInt16>{});
    case kInt32:
      return visit(std::integral_constant<ElementType, kInt32>{});
    default:
      return visit(std::integral_constant<ElementType, kInt64>{});
  }
}

template <typename Word>
struct ElementMapping {
  static_assert(std::is_unsigned_v<Word>);
  static constexpr int kBits = 8 * sizeof(Word);
  static constexpr Word kSign = Word(Word(1) << (kBits - 1));

  Word float_mask;  // all ones for floats, 0 for integers
  int mantissa_bits;
  uint32_t exponent_mask;
  int key_offset;

  constexpr explicit ElementMapping(const ElementTraits& traits)
      : float_mask(traits.is_float ? Word(~Word(0)) : Word(0)),
        mantissa_bits(traits.mantissa_bits),
        exponent_mask(traits.exponent_mask),
        key_offset(traits.key_offset) {}

  constexpr Word Ordered(Word u) const {
    const Word negative = Word(Word(0) - Word(u >> (kBits - 1)));
    return Word(u ^ (float_mask & (negative | kSign)));
  }
  constexpr Word Unordered(Word o) const {
    const Word positive = Word(Word(0) - Word(Word(~o) >> (kBits - 1)));
    return Word(o ^ (float_mask & (positive | kSign)));
  }
  constexpr Word Zero() const { return Ordered(0); }
  constexpr static Word Zigzag(Word d) {
    return Word(Word(d << 1) ^ Word(Word(0) - Word(d >> (kBits - 1))));
  }
  constexpr static Word Unzigzag(Word z) {
    return Word(Word(z >> 1) ^ Word(Word(0) - Word(z & 1)));
  }
  constexpr uint32_t Key(Word base) const {
    const uint32_t exponent = static_cast<uint32_t>((base >> mantissa_bits) & exponent_mask);
    if (exponent_mask <= 0xff) return exponent;
    const int shifted = static_cast<int>(exponent) - key_offset;
    return static_cast<uint32_t>(shifted < 0 ? 0 : shifted > 255 ? 255 : shifted);
  }
};

}  // namespace ferry::delta
