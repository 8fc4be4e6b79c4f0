// ferryctl publish: store a model version in a repository folder as signed,
// content-addressed chunks, with deltas from earlier versions.
#include "lib/pipeline/publish.h"

#include <iostream>

#include "ctl/command.h"
#include "ctl/flags.h"
#include "lib/artifact/manifest.h"
#include "lib/common/log.h"
#include "lib/common/names.h"

namespace ferry::ctl {
namespace {

struct PublishFlags {
  std::string repository;
  std::string model;
  std::string version;
  std::string key;
  std::vector<std::string> delta_from;
  std::vector<std::string> paths;
  std::string chunk_size = "8M";
  int level = 3;
};

// Publish bounds chunks so that a pull holds one chunk in memory.
Result<uint64_t> ParseChunkSize(std::string_view text) {
  Result<uint64_t> size = ParseByteSize(text);
  if (!size) return size;
  if (*size < 4096 || *size > kMaxChunkSize) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        std::string(text) + " is outside 4K to 64M (a pull holds one chunk in memory)");
  }
  return size;
}

// The first flag whose value cannot work, checked before the repository is
// created or any input read.
std::optional<std::string> BadFlags(const PublishFlags& flags, uint64_t& chunk_size) {
  Result<uint64_t> parsed = ParseChunkSize(flags.chunk_size);
  if (auto bad = FirstBadFlag({{"--repo", CheckFolderToCreate(flags.repository)},
                               {"--model", ValidateModelName(flags.model)},
                               {"--version", ValidateVersion(flags.version)},
                               {"--key", CheckInputFile(flags.key)},
                               {"--chunk-size", parsed ? OkStatus() : Status(parsed.error())}})) {
    return bad;
  }
  for (const std::string& from : flags.delta_from) {
    if (auto bad = FirstBadFlag({{"--delta-from", ValidateVersion(from)}})) return bad;
    if (from == flags.version) {
      return "--delta-from: " + from + " is the version being published; name an earlier one";
    }
  }
  for (const std::string& path : flags.paths) {
    if (auto bad = FirstBadFlag({{"input", CheckInputFileOrFolder(path)}})) return bad;
  }
  chunk_size = *parsed;
  return std::nullopt;
}

int RunPublish(const CLI::App& app, const PublishFlags& flags) {
  uint64_t chunk_size = 0;
  if (auto bad = BadFlags(flags, chunk_size)) return UsageError(app, *bad);
  Result<SigningKey> key = SigningKey::Load(flags.key);
  if (!key) return Fail(app, key.error());
  PublishOptions options;
  options.repository = flags.repository;
  options.model = flags.model;
  options.version = flags.version;
  options.delta_from = flags.delta_from;
  options.inputs.assign(flags.paths.begin(), flags.paths.end());
  options.chunk_size = chunk_size;
  options.zstd_level = flags.level;
  auto log = MakeLogger("publish", LogFormat::kText);
  Result<PublishReport> report = Publish(options, *key, *log);
  if (!report) return Fail(app, report.error());
  std::cout << "published " << flags.model << " " << flags.version << ": "
            << report->manifest.files.size() << " file(s), " << report->manifest.TotalBytes()
            << " bytes\nmanifestDigest: sha256:" << ToHex(report->manifest_digest) << "\n";
  return 0;
}

}  // namespace

Command AddPublishCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("publish", "publish a signed model version into a repository");
  auto flags = std::make_shared<PublishFlags>();
  app->add_option("--repo", flags->repository, "repository folder (created if missing)")
      ->required();
  app->add_option("--model", flags->model, "model name, e.g. coder-6.7b")->required();
  app->add_option("--version", flags->version, "version, e.g. 1.1.0")->required();
  app->add_option("--key", flags->key, "private key (PEM) from `ferryctl keygen`")->required();
  app->add_option("--delta-from", flags->delta_from,
                  "earlier published version to make a delta from (repeatable)");
  app->add_option("--chunk-size", flags->chunk_size, "bytes per chunk object, 4K to 64M")
      ->capture_default_str();
  app->add_option("--level", flags->level, "zstd level of chunk objects")
      ->check(CLI::Range(1, 19))
      ->capture_default_str();
  app->add_option("paths", flags->paths, "files and folders of the model")->required();
  return {app, [app, flags] { return RunPublish(*app, *flags); }};
}

}  // namespace ferry::ctl
