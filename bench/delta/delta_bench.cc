// ferry-delta-bench: the delta codec's side of bench/delta/run.
//   encode --base B... --target T --out D     time EncodeFile
//   apply --base B... --delta D --out O       time ApplyFile (bases trusted, as the store does)
//   tile --base B --target T --min-bytes N --out-base OB --out-target OT
//                                             scale a pair up without exact repeats
// Each prints one line of key=value pairs for the script to read.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "lib/common/cli.h"
#include "lib/common/file.h"
#include "lib/delta/delta.h"
#include "lib/delta/safetensors.h"

namespace ferry {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::vector<delta::BaseFile> Bases(const std::vector<std::string>& paths) {
  std::vector<delta::BaseFile> bases;
  for (const std::string& path : paths) {
    bases.push_back({std::filesystem::path(path).filename().string(), path});
  }
  return bases;
}

int Fail(const Error& error) {
  std::cerr << "ferry-delta-bench: " << error.message << "\n";
  return kExitFailure;
}

// Scales a pair up to at least `min_bytes` of tensor data: each tensor is
// repeated `copies` times, and in every copy each block of 64 elements is
// permuted by a permutation drawn for that copy and block position. Base and
// target use the same permutations, so every element keeps its partner, but
// no copy repeats another byte for byte (which LZ-style tools would get for
// free and real checkpoints never offer).
Status Tile(const std::string& base_path, const std::string& target_path, uint64_t min_bytes,
            const std::string& out_base, const std::string& out_target) {
  constexpr size_t kBlock = 64;
  Result<MappedFile> base = MappedFile::Open(base_path);
  if (!base) return base.error();
  Result<MappedFile> target = MappedFile::Open(target_path);
  if (!target) return target.error();
  Result<delta::SafetensorsLayout> base_layout = delta::ParseSafetensors(base->bytes());
  if (!base_layout) return base_layout.error();
  Result<delta::SafetensorsLayout> target_layout = delta::ParseSafetensors(target->bytes());
  if (!target_layout) return target_layout.error();
  // Same tensors in the same order, so both sides draw the same permutations.
  const auto same_tensors = [&] {
    if (base_layout->tensors.size() != target_layout->tensors.size()) return false;
    for (size_t t = 0; t < base_layout->tensors.size(); ++t) {
      const delta::TensorInfo& a = base_layout->tensors[t];
      const delta::TensorInfo& b = target_layout->tensors[t];
      if (a.name != b.name || a.end - a.begin != b.end - b.begin) return false;
    }
    return true;
  };
  if (!same_tensors()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "tile needs two files with the same tensors in the same order");
  }
  uint64_t data_bytes = 0;
  for (const delta::TensorInfo& tensor : base_layout->tensors)
    data_bytes += tensor.end - tensor.begin;
  const uint64_t copies = std::max<uint64_t>(1, (min_bytes + data_bytes - 1) / data_bytes);

  struct Side {
    const MappedFile* file;
    const delta::SafetensorsLayout* layout;
    std::string out;
  };
  for (const Side& side :
       {Side{&*base, &*base_layout, out_base}, Side{&*target, &*target_layout, out_target}}) {
    std::vector<delta::TensorSpec> specs;
    for (const delta::TensorInfo& tensor : side.layout->tensors) {
      std::vector<uint64_t> shape = tensor.shape;
      if (shape.empty()) shape.push_back(1);
      shape[0] *= copies;
      specs.push_back({tensor.name, tensor.dtype, shape});
    }
    Result<UniqueFd> fd = CreateForWrite(side.out);
    if (!fd) return fd.error();
    if (Status s = WriteAll(fd->get(), delta::BuildSafetensorsHeader(specs, side.layout->metadata),
                            side.out);
        !s) {
      return s;
    }
    // The same seed for both sides: identical permutations.
    std::mt19937_64 random(20240601);
    std::vector<uint8_t> buffer;
    for (const delta::TensorInfo& tensor : side.layout->tensors) {
      const size_t width = static_cast<size_t>(*delta::DtypeSize(tensor.dtype));
      std::span<const uint8_t> bytes =
          side.file->bytes().subspan(tensor.begin, tensor.end - tensor.begin);
      const size_t elements = bytes.size() / width;
      buffer.resize(bytes.size());
      std::array<uint8_t, kBlock> order;
      for (uint64_t copy = 0; copy < copies; ++copy) {
        for (size_t block = 0; block < elements; block += kBlock) {
          const size_t count = std::min(kBlock, elements - block);
          std::iota(order.begin(), order.begin() + count, 0);
          if (copy > 0) std::shuffle(order.begin(), order.begin() + count, random);
          for (size_t k = 0; k < count; ++k) {
            std::copy_n(bytes.data() + (block + order[k]) * width, width,
                        buffer.data() + (block + k) * width);
          }
        }
        if (Status s = WriteAll(fd->get(), buffer, side.out); !s) return s;
      }
    }
  }
  std::cout << "copies=" << copies << "\n";
  return OkStatus();
}

int Main(int argc, char** argv) {
  CLI::App app{"ferry-delta-bench: times the delta codec for bench/delta/run"};
  AddVersionFlag(app);
  app.require_subcommand(1);
  std::vector<std::string> bases;
  std::string target, out, delta_path, base, out_base, out_target;
  uint64_t min_bytes = 0;

  auto* encode = app.add_subcommand("encode", "time EncodeFile");
  encode->add_option("--base", bases)->required();
  encode->add_option("--target", target)->required();
  encode->add_option("--out", out)->required();
  auto* apply = app.add_subcommand("apply", "time ApplyFile");
  apply->add_option("--base", bases)->required();
  apply->add_option("--delta", delta_path)->required();
  apply->add_option("--out", out)->required();
  auto* tile = app.add_subcommand("tile", "scale a pair up without exact repeats");
  tile->add_option("--base", base)->required();
  tile->add_option("--target", target)->required();
  tile->add_option("--min-bytes", min_bytes)->required();
  tile->add_option("--out-base", out_base)->required();
  tile->add_option("--out-target", out_target)->required();
  if (std::optional<int> code = ParseCommandLine(app, argc, argv)) return *code;

  if (*encode) {
    const Clock::time_point start = Clock::now();
    Result<delta::EncodeStats> stats = delta::EncodeFile(Bases(bases), target, out);
    if (!stats) return Fail(stats.error());
    std::cout << "seconds=" << SecondsSince(start) << " bytes=" << stats->delta_bytes
              << " tensor_aware=" << stats->tensor_aware
              << " unchanged=" << stats->tensors_unchanged << " diffed=" << stats->tensors_diffed
              << " fresh=" << stats->tensors_fresh << "\n";
  } else if (*apply) {
    const Clock::time_point start = Clock::now();
    Result<delta::ApplyResult> result =
        delta::ApplyFile(Bases(bases), delta_path, out, {.bases_already_verified = true});
    if (!result) return Fail(result.error());
    std::cout << "seconds=" << SecondsSince(start) << " bytes=" << result->size << "\n";
  } else {
    if (Status s = Tile(base, target, min_bytes, out_base, out_target); !s) return Fail(s.error());
  }
  return kExitOk;
}

}  // namespace
}  // namespace ferry

int main(int argc, char** argv) { return ferry::Main(argc, argv); }
