// Checks a folder's contents against a file list: the same sets of paths, and
// each file's size and SHA-256. Activate runs this on a staging folder before
// anything becomes visible; Verify runs it on a complete version. Errors are
// kCorrupt and name the first offending path, so a user knows what to fix.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "lib/common/result.h"
#include "lib/store/file_entry.h"

namespace ferry::store {

// `found` (sorted, as ScanTree returns it) against `expected`: reports a
// missing file before an extra one.
Status CompareFileSets(const std::vector<std::string>& found, std::span<const FileEntry> expected);

// Size first (cheap), then SHA-256 unless `trusted`.
Status CheckFileContent(const std::filesystem::path& file, const FileEntry& entry, bool trusted);

}  // namespace ferry::store
