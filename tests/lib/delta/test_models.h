// Safetensors files for the delta codec's tests: tensors of any dtype with
// random weights, and perturbed copies shaped like a training update.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace ferry::delta::testing {

struct TestTensor {
  std::string name;
  std::string dtype;
  std::vector<uint64_t> shape;
  std::vector<uint8_t> bytes;
};

// Writes `tensors` back to back, in this order, after their header.
void WriteSafetensors(const std::filesystem::path& path, const std::vector<TestTensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// `count` elements of `dtype`: floats drawn from N(0, scale^2), integers and
// booleans uniform over their range.
std::vector<uint8_t> RandomWeights(const std::string& dtype, size_t count, std::mt19937_64& random,
                                   double scale = 0.02);

// A training-like update: floats move by N(0, step^2) (small weights cross
// zero), integers by -1, 0 or +1.
std::vector<uint8_t> Perturb(const std::string& dtype, std::span<const uint8_t> weights,
                             std::mt19937_64& random, double step = 0.002);

TestTensor RandomTensor(const std::string& name, const std::string& dtype,
                        std::vector<uint64_t> shape, std::mt19937_64& random);

std::vector<uint8_t> ReadBytes(const std::filesystem::path& path);

}  // namespace ferry::delta::testing
