#include "lib/store/current_link.h"

#include <unistd.h>

#include <cerrno>

#include "lib/common/file.h"
#include "lib/common/names.h"

namespace ferry::store {
namespace {

constexpr std::string_view kPrefix = "versions/";

}  // namespace

Result<std::optional<std::string>> ReadCurrent(const ModelLayout& layout) {
  const std::filesystem::path path = layout.current();
  char target[512];
  const ssize_t n = ::readlink(path.c_str(), target, sizeof target);
  if (n < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return ErrnoError("read link", path, errno);
  }
  const std::string_view text(target, static_cast<size_t>(n));
  if (!text.starts_with(kPrefix) || !ValidateVersion(text.substr(kPrefix.size())).ok()) {
    return MakeError(ErrorCode::kCorrupt, path.string() + " points at '" + std::string(text) +
                                              "', not versions/<version>; it was changed by hand: "
                                              "point it at a version or remove it");
  }
  return std::optional<std::string>(std::string(text.substr(kPrefix.size())));
}

Status SwitchCurrent(const ModelLayout& layout, std::string_view version) {
  const std::filesystem::path link = layout.current();
  std::filesystem::path temporary = link;
  temporary += ".tmp-" + std::to_string(::getpid());
  const std::string target = std::string(kPrefix) + std::string(version);
  ::unlink(temporary.c_str());  // a leftover of ours would make symlink() fail
  if (::symlink(target.c_str(), temporary.c_str()) != 0) {
    return ErrnoError("create link", temporary, errno);
  }
  if (::rename(temporary.c_str(), link.c_str()) != 0) {
    const int saved = errno;
    ::unlink(temporary.c_str());
    return ErrnoError("switch", link, saved);
  }
  return FsyncDirectory(layout.dir());
}

}  // namespace ferry::store
