// ferryctl pull: stage, verify and activate a version in a store, from a
// repository (folder or HTTP(S)) or an offline bundle — what the agent does on
// every node, for a single machine.
#include "lib/pipeline/pull.h"

#include <iostream>

#include "ctl/command.h"
#include "lib/artifact/signed_manifest.h"
#include "lib/common/log.h"
#include "lib/pipeline/bundle.h"

namespace ferry::ctl {
namespace {

struct PullFlags {
  std::string repository;
  std::string bundle;
  std::string model;
  std::string version;
  std::string store;
  std::string public_key;
  std::string digest;
  int keep = 2;
  std::string ca_bundle;
  uint64_t limit_rate = 0;
  int retries = fetch::FetchOptions{}.max_attempts;
  bool plain_progress = false;
};

int RunPull(const CLI::App& app, const PullFlags& flags) {
  Result<VerifyingKey> key = VerifyingKey::Load(flags.public_key);
  if (!key) return Fail(app, key.error());
  PullOptions options;
  options.model = flags.model;
  options.version = flags.version;
  options.store_root = flags.store;
  options.keep_versions = flags.keep;
  options.plain_progress = flags.plain_progress;
  if (!flags.digest.empty()) {
    Result<Sha256Digest> pinned = ParseDigestReference(flags.digest);
    if (!pinned) return UsageError(app, "--digest: " + pinned.error().message);
    options.pinned_manifest = *pinned;
  }
  auto log = MakeLogger("pull", LogFormat::kText);
  Result<std::unique_ptr<fetch::Source>> source = [&]() {
    if (!flags.bundle.empty()) return OpenBundle(flags.bundle);
    fetch::FetchOptions fetch_options;
    fetch_options.ca_bundle = flags.ca_bundle;
    fetch_options.bandwidth_limit = flags.limit_rate;
    fetch_options.max_attempts = flags.retries;
    fetch_options.log = log;
    return fetch::OpenSource(flags.repository, fetch_options);
  }();
  if (!source) return Fail(app, source.error());
  Result<PullReport> report = Pull(**source, *key, options, *log);
  if (!report) return Fail(app, report.error());
  if (report->already_current) {
    std::cout << flags.model << " " << flags.version << " is already current\n";
  } else {
    std::cout << flags.model << " " << flags.version << " is current\n";
  }
  return 0;
}

}  // namespace

Command AddPullCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("pull", "stage, verify and activate a version in a store");
  auto flags = std::make_shared<PullFlags>();
  auto* repo = app->add_option("--repo", flags->repository,
                               "repository: a folder, file:///path, http:// or https:// URL");
  auto* bundle = app->add_option("--bundle", flags->bundle, "an offline bundle (.tar)");
  repo->excludes(bundle);
  app->add_option("--model", flags->model, "model name")->required();
  app->add_option("--version", flags->version, "version to make current")->required();
  app->add_option("--store", flags->store, "store root (the node's volume)")->required();
  app->add_option("--pubkey", flags->public_key, "publisher's public key (PEM)")->required();
  app->add_option("--digest", flags->digest, "pin the manifest: sha256:<64 hex>");
  app->add_option("--keep", flags->keep, "versions to keep, counting the current one")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  app->add_option("--ca-bundle", flags->ca_bundle, "PEM file of CAs trusted for https")
      ->check(CLI::ExistingFile);
  app->add_option("--limit-rate", flags->limit_rate, "bandwidth cap in bytes/s (e.g. 50M)")
      ->transform(CLI::AsSizeValue(false));
  app->add_option("--retries", flags->retries, "attempts per request for transient failures")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app->add_flag("--plain-progress", flags->plain_progress, "log lines instead of a progress bar");
  return {app, [app, flags]() {
            if (flags->repository.empty() == flags->bundle.empty()) {
              return UsageError(*app, "give exactly one of --repo and --bundle");
            }
            return RunPull(*app, *flags);
          }};
}

}  // namespace ferry::ctl
