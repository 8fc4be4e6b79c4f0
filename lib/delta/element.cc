#include "lib/delta/element.h"

namespace ferry::delta {

std::optional<ElementType> ElementTypeForDtype(std::string_view dtype) {
  if (dtype == "BF16") return ElementType::kBFloat16;
  if (dtype == "F16") return ElementType::kFloat16;
  if (dtype == "F32") return ElementType::kFloat32;
  if (dtype == "F64") return ElementType::kFloat64;
  if (dtype == "F8_E4M3") return ElementType::kFloat8E4M3;
  if (dtype == "F8_E5M2") return ElementType::kFloat8E5M2;
  // Integers, booleans and exponent-only scales: a wrapping difference.
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL" || dtype == "F8_E8M0") {
    return ElementType::kInt8;
  }
  if (dtype == "I16" || dtype == "U16") return ElementType::kInt16;
  if (dtype == "I32" || dtype == "U32") return ElementType::kInt32;
  if (dtype == "I64" || dtype == "U64") return ElementType::kInt64;
  return std::nullopt;
}

}  // namespace ferry::delta
