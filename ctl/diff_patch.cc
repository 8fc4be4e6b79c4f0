// ferryctl diff / patch: the delta codec on single files, for benchmarks and
// debugging. Several --base files may be given: tensors are paired by name
// across all of them (a sharded checkpoint).
#include <iostream>

#include "ctl/command.h"
#include "lib/delta/delta.h"

namespace ferry::ctl {
namespace {

std::vector<delta::BaseFile> Bases(const std::vector<std::string>& paths) {
  std::vector<delta::BaseFile> bases;
  for (const std::string& path : paths) {
    bases.push_back({std::filesystem::path(path).filename().string(), path});
  }
  return bases;
}

}  // namespace

Command AddDiffCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("diff", "make a delta that turns --base into --target");
  auto bases = std::make_shared<std::vector<std::string>>();
  auto target = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto level = std::make_shared<int>(delta::EncodeOptions{}.zstd_level);
  app->add_option("--base", *bases, "the old file (repeatable for shards)")->required();
  app->add_option("--target", *target, "the new file")->required();
  app->add_option("-o,--out", *out, "where to write the delta")->required();
  app->add_option("--level", *level, "zstd level")->check(CLI::Range(1, 22))->capture_default_str();
  return {app, [=] {
            Result<delta::EncodeStats> stats =
                delta::EncodeFile(Bases(*bases), *target, *out, {.zstd_level = *level});
            if (!stats) return Fail(*app, stats.error());
            std::cout << "delta " << stats->delta_bytes << " bytes for " << stats->target_bytes
                      << " ("
                      << 100.0 * stats->delta_bytes / std::max<uint64_t>(1, stats->target_bytes)
                      << "%); " << (stats->tensor_aware ? "tensor-aware" : "generic")
                      << "; tensors unchanged " << stats->tensors_unchanged << ", diffed "
                      << stats->tensors_diffed << ", fresh " << stats->tensors_fresh << "\n";
            return 0;
          }};
}

Command AddPatchCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("patch", "apply a delta to --base, writing the new file");
  auto bases = std::make_shared<std::vector<std::string>>();
  auto delta_path = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  app->add_option("--base", *bases, "the old file (repeatable for shards)")->required();
  app->add_option("--delta", *delta_path, "the delta from `ferryctl diff`")->required();
  app->add_option("-o,--out", *out, "where to write the new file")->required();
  return {app, [=] {
            Result<delta::ApplyResult> result = delta::ApplyFile(Bases(*bases), *delta_path, *out);
            if (!result) return Fail(*app, result.error());
            std::cout << "wrote " << *out << ": " << result->size
                      << " bytes, sha256:" << ToHex(result->sha256) << "\n";
            return 0;
          }};
}

}  // namespace ferry::ctl
