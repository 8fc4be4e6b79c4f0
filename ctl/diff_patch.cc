// ferryctl diff / patch: the delta codec on single files, for benchmarks and
// debugging. Several --base files may be given: tensors are paired by name
// across all of them (a sharded checkpoint).
//
// Both write -o through a ReplacingFile: the output appears, complete, only
// when the codec succeeded, and a file already at -o is replaced then and
// never touched before (a missing, truncated or mismatched delta leaves it
// byte for byte as it was).
#include <iostream>

#include "ctl/command.h"
#include "ctl/flags.h"
#include "ctl/replacing_file.h"
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

// The inputs are read while the output is written, and -o replaces its file:
// naming an input as -o would destroy that input.
Status CheckOutputIsNoInput(const std::string& out, const std::vector<std::string>& inputs) {
  for (const std::string& input : inputs) {
    std::error_code error;
    if (std::filesystem::equivalent(out, input, error)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       out + " is also an input (" + input + "); write the output elsewhere");
    }
  }
  return OkStatus();
}

// The usage problem with the files of a diff or patch, if any: every input an
// existing regular file (a FIFO would be waited on), -o a new path or a
// regular file that is none of the inputs.
std::optional<std::string> BadFiles(const std::vector<std::string>& bases,
                                    std::string_view input_flag, const std::string& input,
                                    const std::string& out) {
  for (const std::string& base : bases) {
    if (auto bad = FirstBadFlag({{"--base", CheckInputFile(base)}})) return bad;
  }
  std::vector<std::string> inputs = bases;
  inputs.push_back(input);
  return FirstBadFlag({{input_flag, CheckInputFile(input)},
                       {"-o", CheckOutputFile(out)},
                       {"-o", CheckOutputIsNoInput(out, inputs)}});
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
            if (auto bad = BadFiles(*bases, "--target", *target, *out)) {
              return UsageError(*app, *bad);
            }
            Result<ReplacingFile> output = ReplacingFile::Create(*out);
            if (!output) return Fail(*app, output.error());
            Result<delta::EncodeStats> stats = delta::EncodeFile(
                Bases(*bases), *target, output->temporary(), {.zstd_level = *level});
            if (!stats) return Fail(*app, stats.error());
            if (Status s = output->Commit(); !s) return Fail(*app, s.error());
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
            if (auto bad = BadFiles(*bases, "--delta", *delta_path, *out)) {
              return UsageError(*app, *bad);
            }
            Result<ReplacingFile> output = ReplacingFile::Create(*out);
            if (!output) return Fail(*app, output.error());
            Result<delta::ApplyResult> result =
                delta::ApplyFile(Bases(*bases), *delta_path, output->temporary());
            if (!result) return Fail(*app, result.error());
            if (Status s = output->Commit(); !s) return Fail(*app, s.error());
            std::cout << "wrote " << *out << ": " << result->size
                      << " bytes, sha256:" << ToHex(result->sha256) << "\n";
            return 0;
          }};
}

}  // namespace ferry::ctl
