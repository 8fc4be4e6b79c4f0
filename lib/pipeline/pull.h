// Pulling a model version into a node's store: the one path that both
// `ferryctl pull` and the agent take. Trust flows in one direction: the
// manifest's bytes are checked (pin, signature) before they are read; every
// chunk is checked against the manifest as it arrives; every file against the
// manifest before it is marked done; and the store activates only a complete,
// verified version, atomically. Any failure leaves the version in service as it was.
//
// Cheapest source first for each file: staged already (a resumed run), identical
// file in a version the store holds (hard link), a delta from a held version,
// then the full chunks. Fetched objects are cached under <store>/.ferry-cache so
// a re-run after a crash or a cut never fetches a verified byte again.
#pragma once

#include <spdlog/logger.h>

#include <filesystem>
#include <optional>
#include <string>

#include "lib/artifact/sign.h"
#include "lib/common/sha256.h"
#include "lib/fetch/source.h"

namespace ferry {

struct PullOptions {
  std::string model;
  std::string version;
  std::filesystem::path store_root;
  std::optional<Sha256Digest> pinned_manifest;  // ModelVersion.spec.source.manifestDigest
  int keep_versions = 2;
  bool plain_progress = false;  // log lines even on a terminal
};

struct PullReport {
  bool already_current = false;   // it was current, and every file of it checked intact
  bool switched_to_held = false;  // the store held it complete: switched, nothing fetched
  uint64_t files_linked = 0;      // unchanged, hard-linked from a held version
  uint64_t files_patched = 0;     // rebuilt from a delta
  uint64_t files_fetched = 0;     // assembled from full chunks
  uint64_t files_resumed = 0;     // left by an earlier, interrupted run, and intact
  uint64_t files_damaged = 0;     // held copies that failed their hash, so were not used
  uint64_t bytes_fetched = 0;     // compressed bytes transferred in this run
};

Result<PullReport> Pull(fetch::Source& source, const VerifyingKey& key, const PullOptions& options,
                        spdlog::logger& log);

}  // namespace ferry
