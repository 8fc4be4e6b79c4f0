#include "lib/store/file_list.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "lib/common/file.h"
#include "lib/common/json_view.h"
#include "lib/common/names.h"

namespace ferry::store {
namespace {

constexpr int kFormat = 1;

}  // namespace

Status ValidateFileList(std::span<const FileEntry> files) {
  if (files.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "a version needs at least one file");
  }
  std::set<std::string_view> seen;
  for (const FileEntry& file : files) {
    if (Status s = ValidateRelativePath(file.path); !s) return s;
    if (!seen.insert(file.path).second) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "file path '" + file.path + "' is listed twice");
    }
  }
  return OkStatus();
}

std::vector<FileEntry> SortedByPath(std::span<const FileEntry> files) {
  std::vector<FileEntry> sorted(files.begin(), files.end());
  std::ranges::sort(sorted, {}, &FileEntry::path);
  return sorted;
}

std::string EncodeFileList(std::span<const FileEntry> files) {
  nlohmann::json list = nlohmann::json::array();
  for (const FileEntry& file : SortedByPath(files)) {
    list.push_back({{"path", file.path}, {"size", file.size}, {"sha256", ToHex(file.sha256)}});
  }
  return nlohmann::json{{"format", kFormat}, {"files", list}}.dump(1) + "\n";
}

Result<std::vector<FileEntry>> ReadFileList(const std::filesystem::path& path) {
  Result<std::string> text = ReadFileToString(path);
  if (!text) return text.error();
  auto damaged = [&](const std::string& why) {
    return MakeError(ErrorCode::kCorrupt, path.string() + " is damaged (" + why +
                                              "); re-pull this version or remove it");
  };
  auto doc = ParseJson(*text, "file list", ErrorCode::kCorrupt);
  if (!doc) return damaged(doc.error().message);
  const JsonView root(*doc, "", ErrorCode::kCorrupt);
  FirstError first;
  const int64_t format = first(root.RequiredInt("format"));
  if (!first.ok()) return damaged(first.error().message);
  if (format != kFormat) {
    return damaged("format " + std::to_string(format) + ", expected " + std::to_string(kFormat));
  }
  std::vector<FileEntry> files;
  for (const JsonView& item : first(root.RequiredItems("files"))) {
    const std::string hex = first(item.RequiredString("sha256"));
    FileEntry entry{first(item.RequiredString("path")), first(item.RequiredUint("size")), {}};
    if (!first.ok()) break;
    Result<Sha256Digest> digest = ParseSha256Hex(hex);
    if (!digest) return damaged(item.Invalid("sha256: " + digest.error().message).message);
    entry.sha256 = *digest;
    files.push_back(std::move(entry));
  }
  if (!first.ok()) return damaged(first.error().message);
  if (Status s = ValidateFileList(files); !s) return damaged(s.error().message);
  return files;
}

}  // namespace ferry::store
