// Paths inside a repository, as a manifest names them and as clients ask the
// server for them. The text check (ValidateRelativePath, lib/common/names.h)
// alone keeps a name from reaching outside the repository; ResolveFile adds the
// filesystem's view, where a symlink can.
#pragma once

#include <filesystem>
#include <string_view>

#include "lib/common/names.h"
#include "lib/common/result.h"

namespace ferry::fetch {

// The regular file `relative` names under `root` (canonical), with symlinks
// resolved. kInvalidArgument when the name is not plain or leads outside
// `root`; kNotFound when nothing is there or it is not a regular file (a
// folder is never listed). The check and a later open are two steps: `root` is
// assumed to be written only by its publisher, not by those who read it.
Result<std::filesystem::path> ResolveFile(const std::filesystem::path& root,
                                          std::string_view relative);

}  // namespace ferry::fetch
