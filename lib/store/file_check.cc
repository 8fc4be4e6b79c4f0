#include "lib/store/file_check.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "lib/common/file.h"

namespace ferry::store {

Status CompareFileSets(const std::vector<std::string>& found, std::span<const FileEntry> expected) {
  std::vector<std::string> wanted;
  for (const FileEntry& entry : expected) wanted.push_back(entry.path);
  std::ranges::sort(wanted);
  std::vector<std::string> missing;
  std::ranges::set_difference(wanted, found, std::back_inserter(missing));
  if (!missing.empty()) {
    return MakeError(ErrorCode::kCorrupt, "file " + missing.front() + " is missing (" +
                                              std::to_string(missing.size()) + " missing in all)");
  }
  std::vector<std::string> extra;
  std::ranges::set_difference(found, wanted, std::back_inserter(extra));
  if (!extra.empty()) {
    return MakeError(ErrorCode::kCorrupt, "file " + extra.front() +
                                              " is not in the version's file list (" +
                                              std::to_string(extra.size()) + " extra in all)");
  }
  return OkStatus();
}

Status CheckFileContent(const std::filesystem::path& file, const FileEntry& entry, bool trusted) {
  struct stat info {};
  if (::lstat(file.c_str(), &info) != 0) return ErrnoError("stat", file, errno);
  if (static_cast<uint64_t>(info.st_size) != entry.size) {
    return MakeError(ErrorCode::kCorrupt, "file " + entry.path + " has " +
                                              std::to_string(info.st_size) + " bytes, expected " +
                                              std::to_string(entry.size));
  }
  if (trusted) return OkStatus();
  Result<Sha256Digest> digest = Sha256OfFile(file);
  if (!digest) return digest.error();
  if (*digest != entry.sha256) {
    return MakeError(ErrorCode::kCorrupt, "file " + entry.path + " has SHA-256 " + ToHex(*digest) +
                                              ", expected " + ToHex(entry.sha256));
  }
  return OkStatus();
}

}  // namespace ferry::store
