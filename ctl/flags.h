// Checks of flag values that ferryctl makes before any work starts. A command
// line that could never work — a value of the wrong form (model name, version,
// digest, size), or a path that names nothing or the wrong kind of thing (a
// FIFO, a device or a folder where a file is read) — is a usage error (exit
// 2), reported as "ferryctl <command>: --flag: why" before anything is read,
// written or created. Only what fails once work has started exits 1.
//
// Paths are never opened here, so a FIFO is refused without blocking on it.
// Inputs are checked through stat (symlinks followed, as reading them would),
// outputs through lstat too: Ferry never writes through a symlink.
#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "lib/common/result.h"

namespace ferry::ctl {

// "50M", "1GiB", "512k", "1000": a non-negative decimal count of bytes with an
// optional case-insensitive unit b, k, kb, ki, kib (1024), m..., g..., t...
// (powers of 1024, as curl's --limit-rate). Refuses signs, spaces, fractions,
// hex, unknown units and values past 2^64 - 1.
Result<uint64_t> ParseByteSize(std::string_view text);

// An existing regular file, to be read.
Status CheckInputFile(const std::filesystem::path& path);
// An existing folder, to be read.
Status CheckInputFolder(const std::filesystem::path& path);
// A folder the command creates when missing (a store, a repository, a key
// folder): absent, or a folder.
Status CheckFolderToCreate(const std::filesystem::path& path);
// An existing regular file or folder (publish's inputs).
Status CheckInputFileOrFolder(const std::filesystem::path& path);
// A file to write: absent, or a regular file to replace; never a symlink (as
// nowhere in Ferry, a write never goes through one), folder, FIFO, device or
// socket.
Status CheckOutputFile(const std::filesystem::path& path);

// One flag and what checking its value found.
struct FlagCheck {
  std::string_view flag;
  Status status;
};

// "FLAG: why" for the first check that failed, in order; nullopt when all
// passed.
std::optional<std::string> FirstBadFlag(std::initializer_list<FlagCheck> checks);

}  // namespace ferry::ctl
