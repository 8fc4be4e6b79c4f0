#include "lib/fetch/relative_path.h"

#include <algorithm>
#include <string>
#include <system_error>

namespace ferry::fetch {

Result<std::filesystem::path> ResolveFile(const std::filesystem::path& root,
                                          std::string_view relative) {
  if (Status valid = ValidateRelativePath(relative); !valid) return valid.error();
  std::error_code error;
  const std::filesystem::path resolved = std::filesystem::canonical(root / relative, error);
  if (error) {
    return MakeError(
        error == std::errc::no_such_file_or_directory ? ErrorCode::kNotFound : ErrorCode::kIo,
        std::string(relative) + " in " + root.string() + ": " + error.message());
  }
  if (std::mismatch(root.begin(), root.end(), resolved.begin(), resolved.end()).first !=
      root.end()) {
    return MakeError(ErrorCode::kInvalidArgument, "refusing " + std::string(relative) +
                                                      ": it leads to " + resolved.string() +
                                                      ", outside the repository " + root.string() +
                                                      " (a symlink points out of it)");
  }
  if (!std::filesystem::is_regular_file(resolved, error)) {
    return MakeError(ErrorCode::kNotFound,
                     std::string(relative) + " in " + root.string() + " is not a file");
  }
  return resolved;
}

}  // namespace ferry::fetch
