// ferryctl publish: store a model version in a repository folder as signed,
// content-addressed chunks, with deltas from earlier versions.
#include "lib/pipeline/publish.h"

#include <iostream>

#include "ctl/command.h"
#include "lib/common/log.h"

namespace ferry::ctl {
namespace {

struct PublishFlags {
  std::string repository;
  std::string model;
  std::string version;
  std::string key;
  std::vector<std::string> delta_from;
  std::vector<std::string> paths;
  uint64_t chunk_size = 8 << 20;
  int level = 3;
};

int RunPublish(const CLI::App& app, const PublishFlags& flags) {
  Result<SigningKey> key = SigningKey::Load(flags.key);
  if (!key) return Fail(app, key.error());
  PublishOptions options;
  options.repository = flags.repository;
  options.model = flags.model;
  options.version = flags.version;
  options.delta_from = flags.delta_from;
  options.inputs.assign(flags.paths.begin(), flags.paths.end());
  options.chunk_size = flags.chunk_size;
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
  app->add_option("--chunk-size", flags->chunk_size, "bytes per chunk object")
      ->capture_default_str();
  app->add_option("--level", flags->level, "zstd level of chunk objects")
      ->check(CLI::Range(1, 19))
      ->capture_default_str();
  app->add_option("paths", flags->paths, "files and folders of the model")->required();
  return {app, [app, flags] { return RunPublish(*app, *flags); }};
}

}  // namespace ferry::ctl
