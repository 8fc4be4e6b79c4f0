#include "lib/store/verified_record.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "lib/common/file.h"
#include "lib/store/contained_path.h"

namespace ferry::store {
namespace {

constexpr int kFormat = 1;

int64_t MtimeNs(const struct stat& info) {
  return static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec;
}

}  // namespace

VerifiedRecord VerifiedRecord::Load(std::filesystem::path record, std::filesystem::path dir) {
  VerifiedRecord loaded(std::move(record), std::move(dir));
  Result<std::string> text = ReadFileToString(loaded.record_);
  if (!text) return loaded;
  try {
    const nlohmann::json doc = nlohmann::json::parse(*text);
    if (doc.at("format").get<int>() != kFormat) return loaded;
    for (const auto& [path, item] : doc.at("files").items()) {
      Result<Sha256Digest> digest = ParseSha256Hex(item.at("sha256").get<std::string>());
      if (!digest) return VerifiedRecord(loaded.record_, loaded.dir_);
      loaded.files_[path] = {item.at("size").get<uint64_t>(), *digest,
                             item.at("mtime_ns").get<int64_t>(), item.at("inode").get<uint64_t>()};
    }
  } catch (const nlohmann::json::exception&) {
    return VerifiedRecord(loaded.record_, loaded.dir_);
  }
  return loaded;
}

Status VerifiedRecord::Add(const FileEntry& entry) {
  Result<std::filesystem::path> path = ExistingFileInside(dir_, entry.path);
  if (!path) return path.error();
  // Trusting a file that a power cut could still take away would let Activate
  // skip the very check that catches it, so its data is made durable first.
  UniqueFd fd(::open(path->c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError("open", *path, errno);
  if (Status s = Fsync(fd.get(), *path); !s) return s;
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return ErrnoError("stat", *path, errno);
  if (static_cast<uint64_t>(info.st_size) != entry.size) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot record " + entry.path + " as verified: it has " +
                         std::to_string(info.st_size) + " bytes, the entry says " +
                         std::to_string(entry.size));
  }
  files_[entry.path] = {entry.size, entry.sha256, MtimeNs(info),
                        static_cast<uint64_t>(info.st_ino)};
  return OkStatus();
}

void VerifiedRecord::Forget(const std::string& path) { files_.erase(path); }

bool VerifiedRecord::Contains(const FileEntry& entry) const {
  const auto it = files_.find(entry.path);
  if (it == files_.end()) return false;
  const Seen& seen = it->second;
  struct stat info {};
  if (::lstat((dir_ / entry.path).c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return false;
  return seen.size == entry.size && seen.sha256 == entry.sha256 &&
         static_cast<uint64_t>(info.st_size) == seen.size && MtimeNs(info) == seen.mtime_ns &&
         static_cast<uint64_t>(info.st_ino) == seen.inode;
}

Status VerifiedRecord::Save() const {
  nlohmann::json files = nlohmann::json::object();
  for (const auto& [path, seen] : files_) {
    files[path] = {{"size", seen.size},
                   {"sha256", ToHex(seen.sha256)},
                   {"mtime_ns", seen.mtime_ns},
                   {"inode", seen.inode}};
  }
  return WriteFileAtomically(record_, nlohmann::json{{"format", kFormat}, {"files", files}}.dump());
}

}  // namespace ferry::store
