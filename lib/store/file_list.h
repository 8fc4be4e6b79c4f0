// The list of a version's files (path, size, SHA-256): what Activate checks a
// staging folder against, and what the store keeps as meta/<version>/files.json
// so Verify can re-check a version without the publisher's manifest format.
//
// files.json: {"format": 1, "files": [{"path": "...", "size": N, "sha256": "<64 hex>"}]}
// sorted by path.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "lib/common/result.h"
#include "lib/store/file_entry.h"

namespace ferry::store {

// At least one file; every path valid and listed once.
Status ValidateFileList(std::span<const FileEntry> files);

// `files` sorted by path.
std::vector<FileEntry> SortedByPath(std::span<const FileEntry> files);

std::string EncodeFileList(std::span<const FileEntry> files);
Result<std::vector<FileEntry>> ReadFileList(const std::filesystem::path& path);

}  // namespace ferry::store
