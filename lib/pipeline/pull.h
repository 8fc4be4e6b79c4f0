// Pulling a model version into a node's store: the one path that both
// `ferryctl pull` and the agent take. Trust flows in one direction: the
// manifest's bytes are checked (pin, signature) before they are read; every
// chunk is checked against the manifest as it arrives; every file against the
// manifest before it is marked done; and the store activates only a complete,
// verified version, atomically. Any failure leaves the version in service as it was.
//
// Cheapest source first for each file: staged already (a resumed run), identical
// file in a version the store holds (hard link), a delta from a held version,
// then the full chunks. Objects are downloaded several at a time into the
// version's staging cache, so a re-run after a crash or a cut never fetches a
// verified byte again; the disk space the pull needs is checked first.
#pragma once

#include <spdlog/logger.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>

#include "lib/artifact/sign.h"
#include "lib/common/sha256.h"
#include "lib/fetch/source.h"

namespace ferry {

// Where a pull is, for whoever watches it (the agent's ModelNode status).
enum class PullStage {
  kFetching,   // downloading the objects the version needs (in parallel)
  kStaging,    // linking, patching from deltas and assembling files in staging
  kVerifying,  // checking every staged file against the manifest, then sealing it
};

struct PullProgress {
  PullStage stage = PullStage::kFetching;
  uint64_t total_bytes = 0;       // the version's size: the sum of its files
  uint64_t present_bytes = 0;     // of those, verified in staging so far (linked, resumed, built)
  uint64_t download_bytes = 0;    // what this pull plans to transfer (compressed objects)
  uint64_t downloaded_bytes = 0;  // of those, transferred or found in the cache so far
};

struct PullOptions {
  std::string model;
  std::string version;
  std::filesystem::path store_root;
  std::optional<Sha256Digest> pinned_manifest;  // ModelVersion.spec.source.manifestDigest
  int keep_versions = 2;
  bool plain_progress = false;  // log lines even on a terminal
  // false: the version is staged complete and verified but `current` is left
  // as it is (Store::Hold); the agent's way, which activates only on request.
  bool activate = true;
  // Objects downloaded at once (each on its own connection of the source's pool).
  int parallel_fetches = 4;
  // Disk space to leave free beside what the pull needs; a pull that would
  // leave less fails with kNoSpace before it fetches a byte.
  uint64_t reserve_bytes = 0;
  // Triggered: the pull stops within a block of data (kCancelled), keeping
  // what it staged for a later run.
  std::stop_token stop;
  // Called at each change of stage and as bytes arrive (from fetching
  // threads, possibly concurrently): keep it cheap and thread-safe.
  std::function<void(const PullProgress&)> on_progress;
};

struct PullReport {
  bool already_current = false;           // it was current, and every file of it checked intact
  bool switched_to_held = false;          // the store held it complete: switched, nothing fetched
  bool already_held = false;              // not activating, and the store held it complete already
  uint64_t version_bytes = 0;             // the version's size: the sum of its files
  Sha256Digest manifest_digest{};         // SHA-256 of the verified manifest's bytes
  std::optional<std::string> delta_from;  // the held version a delta was applied from
  uint64_t files_linked = 0;              // unchanged, hard-linked from a held version
  uint64_t files_patched = 0;             // rebuilt from a delta
  uint64_t files_fetched = 0;             // assembled from full chunks
  uint64_t files_resumed = 0;             // left by an earlier, interrupted run, and intact
  uint64_t files_damaged = 0;             // held copies that failed their hash, so were not used
  uint64_t bytes_fetched = 0;             // compressed bytes transferred in this run
};

Result<PullReport> Pull(fetch::Source& source, const VerifyingKey& key, const PullOptions& options,
                        spdlog::logger& log);

}  // namespace ferry
