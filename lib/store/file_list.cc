#include "lib/store/file_list.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "lib/common/file.h"
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
  std::vector<FileEntry> files;
  // nlohmann::json reports a missing or mistyped field by throwing; this is
  // where that becomes an error value.
  try {
    const nlohmann::json doc = nlohmann::json::parse(*text);
    if (doc.at("format").get<int>() != kFormat) {
      return damaged("format " + doc["format"].dump() + ", expected " + std::to_string(kFormat));
    }
    for (const nlohmann::json& item : doc.at("files")) {
      Result<Sha256Digest> digest = ParseSha256Hex(item.at("sha256").get<std::string>());
      if (!digest) return damaged(digest.error().message);
      files.push_back(
          {item.at("path").get<std::string>(), item.at("size").get<uint64_t>(), *digest});
    }
  } catch (const nlohmann::json::exception& e) {
    return damaged(e.what());
  }
  if (Status s = ValidateFileList(files); !s) return damaged(s.error().message);
  return files;
}

}  // namespace ferry::store
