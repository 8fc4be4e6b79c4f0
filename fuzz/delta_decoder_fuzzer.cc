// Applies arbitrary bytes as a delta against a fixed small base: ApplyFile
// must fail with an error or rebuild a file that matches the header's digest,
// never crash, hang, leak or read out of bounds, and never fail leaving a
// partial output where the user's file was.
//
// The input is a delta without its trailing checksum; the harness appends the
// right one, so mutations reach the decoder instead of stopping at the
// checksum. Deltas that declare more than 1 MiB of output are skipped: a
// generic delta reserves its declared size on disk before decoding.
//
// Seeds: run once with FERRY_FUZZ_WRITE_SEEDS=DIR to write valid deltas
// (tensor-aware and generic) against the fixed base into DIR.
//
// Real bases: with FERRY_FUZZ_DELTA_BASES=DIR, every regular file in DIR is a
// base too, named by its file name, so that deltas made by `ferryctl diff`
// against those files (fuzz/seeds cuts small ones from the real checkpoints)
// decode as far as a real delta does instead of stopping at "wrong base".
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "lib/common/file.h"
#include "lib/common/sha256.h"
#include "lib/delta/delta.h"
#include "lib/delta/safetensors.h"

namespace {

namespace fs = std::filesystem;
using ferry::delta::TensorSpec;

struct Tensor {
  TensorSpec spec;
  std::vector<uint8_t> bytes;
};

void WriteModel(const fs::path& path, const std::vector<Tensor>& tensors) {
  std::vector<TensorSpec> specs;
  for (const Tensor& tensor : tensors) specs.push_back(tensor.spec);
  std::ofstream out(path, std::ios::binary);
  out << ferry::delta::BuildSafetensorsHeader(specs, {{"name", "fuzz"}});
  for (const Tensor& tensor : tensors) {
    out.write(reinterpret_cast<const char*>(tensor.bytes.data()),
              static_cast<std::streamsize>(tensor.bytes.size()));
  }
}

// Weights that look like a model's: small values around zero, for each dtype.
std::vector<Tensor> BaseTensors() {
  std::mt19937_64 random(42);
  std::normal_distribution<float> normal(0, 0.05f);
  std::vector<Tensor> tensors;
  for (const auto& [name, dtype, count, width] : {std::tuple{"w.bf16", "BF16", 512, 2},
                                                  {"w.f16", "F16", 128, 2},
                                                  {"w.f32", "F32", 64, 4},
                                                  {"w.f64", "F64", 32, 8},
                                                  {"w.i8", "I8", 64, 1},
                                                  {"w.e4m3", "F8_E4M3", 64, 1}}) {
    Tensor tensor{{name, dtype, {static_cast<uint64_t>(count)}},
                  std::vector<uint8_t>(count * width)};
    for (int k = 0; k < count; ++k) {
      const float value = normal(random);
      uint64_t bits = std::bit_cast<uint32_t>(value);
      if (width == 2) bits >>= 16;  // bf16 bits serve for f16 as well: only the pattern matters
      if (width == 8) bits = std::bit_cast<uint64_t>(static_cast<double>(value));
      if (width == 1) bits = random();
      std::memcpy(tensor.bytes.data() + k * width, &bits, static_cast<size_t>(width));
    }
    tensors.push_back(std::move(tensor));
  }
  return tensors;
}

// The base in a temporary folder, removed when the process exits.
class Fixture {
 public:
  Fixture() : dir(fs::temp_directory_path() / ("ferry-delta-fuzz-" + std::to_string(::getpid()))) {
    fs::create_directories(dir);
    WriteModel(dir / "model.safetensors", BaseTensors());
    bases = {{"model.safetensors", dir / "model.safetensors"}};
    const char* real = std::getenv("FERRY_FUZZ_DELTA_BASES");
    if (real != nullptr && *real != '\0') AddBases(real);
  }
  ~Fixture() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
  Fixture(const Fixture&) = delete;
  Fixture& operator=(const Fixture&) = delete;

  const fs::path dir;
  std::vector<ferry::delta::BaseFile> bases;

 private:
  // Sorted, so that every worker sees the same base list; a name given twice
  // would make the harness ambiguous, so it stops at once.
  void AddBases(const fs::path& folder) {
    std::vector<fs::path> files;
    for (const fs::directory_entry& entry : fs::directory_iterator(folder)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      for (const ferry::delta::BaseFile& base : bases) {
        if (base.name == file.filename().string()) std::abort();
      }
      bases.push_back({file.filename().string(), file});
    }
  }
};

const Fixture& GetFixture() {
  static const Fixture fixture;
  return fixture;
}

void WriteSeeds(const fs::path& seeds) {
  const Fixture& fixture = GetFixture();
  fs::create_directories(seeds);
  std::vector<Tensor> tensors = BaseTensors();
  std::mt19937_64 random(7);
  for (Tensor& tensor : tensors) {
    for (size_t k = 0; k < tensor.bytes.size(); k += 3) tensor.bytes[k] ^= random() & 1;
  }
  tensors.erase(tensors.begin() + 4);
  tensors.push_back({{"added", "U16", {40}}, std::vector<uint8_t>(80, 7)});
  WriteModel(fixture.dir / "target.safetensors", tensors);
  std::ofstream(fixture.dir / "notes.txt") << "not a safetensors file, so the delta is generic\n";
  int n = 0;
  for (const char* target : {"target.safetensors", "model.safetensors", "notes.txt"}) {
    const fs::path delta = fixture.dir / "seed";
    if (!ferry::delta::EncodeFile(fixture.bases, fixture.dir / target, delta).ok()) std::abort();
    fs::resize_file(delta, fs::file_size(delta) - 32);  // the harness appends the checksum
    fs::copy_file(delta, seeds / ("seed-" + std::to_string(n++)),
                  fs::copy_options::overwrite_existing);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* seeds = std::getenv("FERRY_FUZZ_WRITE_SEEDS")) WriteSeeds(seeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Fixture& fixture = GetFixture();
  const fs::path delta = fixture.dir / "input.delta";
  const ferry::Sha256Digest checksum = ferry::Sha256Of(std::span(data, size));
  {
    std::ofstream out(delta, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    out.write(reinterpret_cast<const char*>(checksum.data()), checksum.size());
  }
  ferry::Result<ferry::delta::DeltaInfo> info = ferry::delta::ReadDeltaInfo(delta);
  if (!info || info->target_size > (1u << 20)) return 0;
  // `out` holds a file of the user's before each apply. ApplyFile's contract
  // (delta.h): a failure before it opens `out` leaves that file as it was, a
  // failure after removes `out`; so a failure never leaves a partial output.
  const fs::path out = fixture.dir / "out";
  constexpr std::string_view kUsersFile = "a file the user had before the apply\n";
  for (bool verified : {true, false}) {
    std::ofstream(out, std::ios::binary | std::ios::trunc) << kUsersFile;
    ferry::Result<ferry::delta::ApplyResult> result =
        ferry::delta::ApplyFile(fixture.bases, delta, out, {.bases_already_verified = verified});
    if (result) {
      // Success means the output is the file the header promises.
      if (result->sha256 != info->target_sha256 || *ferry::Sha256OfFile(out) != result->sha256) {
        std::abort();
      }
    } else if (fs::exists(out)) {
      ferry::Result<std::string> left = ferry::ReadFileToString(out);
      if (!left || *left != kUsersFile) std::abort();  // a partial output was left behind
    }
  }
  return 0;
}
