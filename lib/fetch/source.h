// Where model versions come from: a repository folder (a local path, a mounted
// USB disk) or an HTTP(S) server. A Source reads small files whole and
// downloads large ones resumably into a destination file; checking what arrived
// (sizes, SHA-256, signatures) is the caller's business.
//
// Relative paths given to a Source are checked before anything is touched:
// '/'-separated, no empty, "." or ".." component, not absolute, no backslash.
// A folder source also never follows a symlink out of its root.
//
// Sources are thread-safe: one Source may serve many concurrent transfers, and
// its bandwidth cap holds for their sum.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lib/common/result.h"
#include "lib/fetch/progress.h"

namespace ferry::fetch {

// With the defaults a dead server (one that answers nothing, or goes silent
// after its headers) fails a request in about 40 s, 4 attempts of 10 s, and
// one that trickles in about 65 s, 4 low-speed windows; any link that keeps
// above 1 KiB/s still completes. docs/fetch.md gives the arithmetic.
struct FetchOptions {
  // PEM file of the certificate authorities trusted for https; empty = the
  // system's default store.
  std::filesystem::path ca_bundle;
  // Attempts per request for transient failures (connection errors, timeouts,
  // 5xx, 429, the low-speed limit). An attempt that got a download further
  // than ever before, by at least low_speed_limit x low_speed_time bytes,
  // resets the count.
  int max_attempts = 4;
  // Waits between attempts grow exponentially with jitter, from initial_backoff
  // up to max_backoff; a server's Retry-After is honoured up to max_backoff.
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  // Bytes per second over all transfers of the Source; 0 = unlimited.
  uint64_t bandwidth_limit = 0;
  // A connection that cannot be opened, or goes silent, within these fails the
  // attempt (and is retried).
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds read_timeout{10};
  // Low-speed limit, as curl's --speed-limit/--speed-time: a transfer that
  // averages fewer than low_speed_limit bytes/s over low_speed_time fails the
  // attempt as transient (kUnavailable), so a server trickling a byte now and
  // then (which never trips read_timeout) cannot hold a pull forever. What
  // arrived is kept for the next attempt. 0 disables the check.
  uint64_t low_speed_limit = 1024;
  std::chrono::seconds low_speed_time{15};
  // Retries are reported here as warnings when set.
  std::shared_ptr<spdlog::logger> log;
};

class Source {
 public:
  virtual ~Source() = default;

  // The repository's location, for messages.
  virtual std::string Describe() const = 0;

  // Reads a small file whole (manifest, signature, index). kNotFound when it
  // is absent; refuses (kInvalidArgument) a file larger than max_bytes.
  virtual Result<std::string> ReadSmall(std::string_view relative_path,
                                        uint64_t max_bytes = 64 << 20) = 0;

  // Downloads `relative_path` into `destination`, resumably. Bytes already in
  // `destination` (left by an earlier attempt or run) are kept and only the
  // rest is requested (HTTP: Range: bytes=k-); a source that cannot resume
  // restarts the file cleanly. Transient failures are retried, each time from
  // what has arrived. With `expected_size`, a longer answer is kCorrupt and the
  // final size must match. Nothing is fsync'ed: the caller verifies the
  // contents and makes them durable. Arriving bytes (and those already there)
  // are reported to `progress` when it is not null.
  virtual Status FetchToFile(std::string_view relative_path,
                             const std::filesystem::path& destination,
                             std::optional<uint64_t> expected_size, Progress* progress) = 0;
};

// Opens "http://host:port/base", "https://host:port/base", "file:///abs/path"
// or a plain path to a folder. Nothing is contacted yet; a folder must exist.
Result<std::unique_ptr<Source>> OpenSource(std::string_view url_or_path,
                                           const FetchOptions& options = {});

}  // namespace ferry::fetch
