// A version's folder as the store sees it: plain files and folders, nothing
// else. Walks never follow symlinks, and a symlink, device, FIFO or socket
// anywhere in the tree is an error naming it, so no content can come from, or
// be written to, a place outside the folder.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "lib/common/result.h"

namespace ferry::store {

struct Tree {
  std::vector<std::string> files;        // '/'-separated, relative to the folder, sorted
  std::vector<std::string> directories;  // relative, each listed after its parent
};

Result<Tree> ScanTree(const std::filesystem::path& dir);

// Whether `path` is a folder itself, not a symlink to one.
bool IsFolder(const std::filesystem::path& path);

// The names in `dir` (not recursive, unsorted); a missing folder has none.
Result<std::vector<std::string>> ListNames(const std::filesystem::path& dir);

// Makes every file of `tree` 0444 and every folder below `dir` 0555 and all of
// it durable (an fsync of each, folders after their contents; or, for a tree
// of many files, one syncfs of the filesystem), then fsyncs `dir` itself. `dir` stays writable:
// moving a folder to another parent needs write permission on it, and the caller renames it next.
Status SealTree(const std::filesystem::path& dir, const Tree& tree);

// Deletes `path` and all under it; a missing path is fine. Folders are made
// writable first, since complete versions are read-only.
Status RemoveTree(const std::filesystem::path& path);

}  // namespace ferry::store
