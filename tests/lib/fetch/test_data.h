// Data for fetch tests: incompressible bytes, so that nothing on the way can
// make a transfer look right by accident.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace ferry::fetch::testing {

inline std::string RandomBytes(size_t size, uint32_t seed = 1) {
  std::mt19937 random(seed);
  std::string bytes(size, '\0');
  for (char& byte : bytes) byte = static_cast<char>(random());
  return bytes;
}

}  // namespace ferry::fetch::testing
