#include "lib/fetch/relative_path.h"

#include <algorithm>
#include <string>
#include <system_error>

namespace ferry::fetch {

Status ValidateRelativePath(std::string_view relative) {
  auto refuse = [&](std::string_view why) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "refusing path \"" + std::string(relative) + "\": " + std::string(why) +
                         "; repository paths are relative, '/'-separated and stay inside it");
  };
  if (relative.empty()) return refuse("it is empty");
  if (relative.front() == '/') return refuse("it is absolute");
  if (relative.find('\\') != std::string_view::npos) return refuse("it contains a backslash");
  if (relative.find('\0') != std::string_view::npos) return refuse("it contains a NUL byte");
  size_t start = 0;
  while (true) {
    const size_t end = std::min(relative.find('/', start), relative.size());
    const std::string_view component = relative.substr(start, end - start);
    if (component.empty()) return refuse("it has an empty component");
    if (component == "." || component == "..") return refuse("it has a . or .. component");
    if (end == relative.size()) return OkStatus();
    start = end + 1;
  }
}

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
