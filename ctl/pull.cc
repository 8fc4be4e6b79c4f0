// ferryctl pull: stage, verify and activate a version in a store, from a
// repository (folder or HTTP(S)) or an offline bundle — what the agent does on
// every node, for a single machine.
//
// Every flag is checked before anything is read or created (ctl/flags.h): a
// pin that is given must be a digest (an empty --digest would silently pull
// unpinned), sizes and rates must be non-negative counts, a bundle or key must
// be a regular file (a FIFO would be waited on forever).
#include "lib/pipeline/pull.h"

#include <iostream>

#include "ctl/command.h"
#include "ctl/flags.h"
#include "lib/artifact/signed_manifest.h"
#include "lib/common/log.h"
#include "lib/common/names.h"
#include "lib/pipeline/bundle.h"

namespace ferry::ctl {
namespace {

// The longest --low-speed-time: a window of a day already means "never".
constexpr int kMaxLowSpeedSeconds = 24 * 3600;

struct PullFlags {
  std::string repository;
  std::string bundle;
  std::string model;
  std::string version;
  std::string store;
  std::string public_key;
  std::string digest_text;
  std::optional<std::string> digest;  // set when --digest was given, even as ""
  int keep = 2;
  std::string ca_bundle;
  std::string limit_rate = "0";
  std::string low_speed_limit = std::to_string(fetch::FetchOptions{}.low_speed_limit);
  int low_speed_seconds = static_cast<int>(fetch::FetchOptions{}.low_speed_time.count());
  int retries = fetch::FetchOptions{}.max_attempts;
  bool plain_progress = false;
};

// Flag values in the form Pull and the fetcher take them.
struct CheckedPullFlags {
  std::optional<Sha256Digest> pinned;
  uint64_t limit_rate = 0;
  uint64_t low_speed_limit = 0;
};

Status CheckDigest(const std::optional<std::string>& digest) {
  if (!digest) return OkStatus();
  if (digest->empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the pin is empty; give sha256:<64 hex> (the manifestDigest publish "
                     "printed), or leave --digest out to pull unpinned");
  }
  Result<Sha256Digest> parsed = ParseDigestReference(*digest);
  if (!parsed) return parsed.error();
  return OkStatus();
}

// A local repository must be a folder; URLs are checked when opened.
Status CheckRepository(const std::string& repository) {
  if (repository.empty() || repository.find("://") != std::string::npos) return OkStatus();
  return CheckInputFolder(repository);
}

std::optional<std::string> BadFlags(const PullFlags& flags, CheckedPullFlags& checked) {
  Result<uint64_t> limit_rate = ParseByteSize(flags.limit_rate);
  Result<uint64_t> low_speed_limit = ParseByteSize(flags.low_speed_limit);
  auto status_of = [](const Result<uint64_t>& size) {
    return size ? OkStatus() : Status(size.error());
  };
  if (auto bad = FirstBadFlag({
          {"--model", ValidateModelName(flags.model)},
          {"--version", ValidateVersion(flags.version)},
          {"--digest", CheckDigest(flags.digest)},
          {"--limit-rate", status_of(limit_rate)},
          {"--low-speed-limit", status_of(low_speed_limit)},
          {"--repo", CheckRepository(flags.repository)},
          {"--bundle", flags.bundle.empty() ? OkStatus() : CheckInputFile(flags.bundle)},
          {"--pubkey", CheckInputFile(flags.public_key)},
          {"--ca-bundle", flags.ca_bundle.empty() ? OkStatus() : CheckInputFile(flags.ca_bundle)},
          {"--store", CheckFolderToCreate(flags.store)},
      })) {
    return bad;
  }
  if (flags.digest) checked.pinned = *ParseDigestReference(*flags.digest);
  checked.limit_rate = *limit_rate;
  checked.low_speed_limit = *low_speed_limit;
  return std::nullopt;
}

int RunPull(const CLI::App& app, const PullFlags& flags, const CheckedPullFlags& checked) {
  Result<VerifyingKey> key = VerifyingKey::Load(flags.public_key);
  if (!key) return Fail(app, key.error());
  PullOptions options;
  options.model = flags.model;
  options.version = flags.version;
  options.store_root = flags.store;
  options.keep_versions = flags.keep;
  options.plain_progress = flags.plain_progress;
  options.pinned_manifest = checked.pinned;
  auto log = MakeLogger("pull", LogFormat::kText);
  Result<std::unique_ptr<fetch::Source>> source = [&]() {
    if (!flags.bundle.empty()) return OpenBundle(flags.bundle);
    fetch::FetchOptions fetch_options;
    fetch_options.ca_bundle = flags.ca_bundle;
    fetch_options.bandwidth_limit = checked.limit_rate;
    fetch_options.low_speed_limit = checked.low_speed_limit;
    fetch_options.low_speed_time = std::chrono::seconds(flags.low_speed_seconds);
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
  app->add_option("--version", flags->version, "version to make current (SemVer)")->required();
  app->add_option("--store", flags->store, "store root (the node's volume)")->required();
  app->add_option("--pubkey", flags->public_key, "publisher's public key (PEM)")->required();
  // A plain string, so that CLI11 hands "" over instead of calling it
  // missing; whether the flag was given is read from its count.
  auto* digest =
      app->add_option("--digest", flags->digest_text, "pin the manifest: sha256:<64 hex>");
  app->add_option("--keep", flags->keep, "versions to keep, counting the current one")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  app->add_option("--ca-bundle", flags->ca_bundle, "PEM file of CAs trusted for https");
  app->add_option("--limit-rate", flags->limit_rate,
                  "bandwidth cap in bytes/s, K/M/G suffixes (e.g. 50M); 0: unlimited")
      ->capture_default_str();
  app->add_option("--low-speed-limit", flags->low_speed_limit,
                  "a transfer slower than this many bytes/s (K/M/G suffixes) for "
                  "--low-speed-time seconds is cut and retried; 0 disables")
      ->capture_default_str();
  app->add_option("--low-speed-time", flags->low_speed_seconds,
                  "seconds a transfer may stay below --low-speed-limit")
      ->check(CLI::Range(1, kMaxLowSpeedSeconds))
      ->capture_default_str();
  app->add_option("--retries", flags->retries, "attempts per request for transient failures")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app->add_flag("--plain-progress", flags->plain_progress, "log lines instead of a progress bar");
  return {app, [app, flags, digest]() {
            if (digest->count() > 0) flags->digest = flags->digest_text;
            if (flags->repository.empty() == flags->bundle.empty()) {
              return UsageError(*app, "give exactly one of --repo and --bundle");
            }
            CheckedPullFlags checked;
            if (auto bad = BadFlags(*flags, checked)) return UsageError(*app, *bad);
            return RunPull(*app, *flags, checked);
          }};
}

}  // namespace ferry::ctl
