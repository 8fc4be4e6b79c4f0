// Paths under a folder that cannot lead out of it. The relative path has
// passed ValidateRelativePath, so only a symlink could escape; these walk it
// one component at a time with lstat and refuse a symlink anywhere on the way,
// so a link planted in staging (or in a damaged version) is never followed.
#pragma once

#include <filesystem>
#include <string_view>

#include "lib/common/result.h"

namespace ferry::store {

// `base`/`relative`, which must exist as a regular file reached through real
// folders only.
Result<std::filesystem::path> ExistingFileInside(const std::filesystem::path& base,
                                                 std::string_view relative);

// `base`/`relative`, its missing parent folders created; the file itself may
// be absent or a regular file, never a symlink or a folder.
Result<std::filesystem::path> PrepareFileInside(const std::filesystem::path& base,
                                                std::string_view relative);

}  // namespace ferry::store
