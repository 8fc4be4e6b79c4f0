#include "lib/store/journal.h"

#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "lib/common/file.h"
#include "lib/common/names.h"

namespace ferry::store {
namespace {

constexpr int kFormat = 1;

}  // namespace

Result<std::optional<Journal>> ReadJournal(const std::filesystem::path& path) {
  Result<std::string> text = ReadFileToString(path);
  if (!text) {
    if (text.error().code == ErrorCode::kNotFound) return std::optional<Journal>();
    return text.error();
  }
  // Written atomically, so a damaged journal was edited by hand: guessing
  // could switch a model to the wrong version, so stop and say so.
  auto damaged = [&](const std::string& why) {
    return MakeError(ErrorCode::kCorrupt,
                     path.string() + " is damaged (" + why +
                         "); check which version `current` names, then delete the journal");
  };
  Journal journal;
  try {
    const nlohmann::json doc = nlohmann::json::parse(*text);
    if (doc.at("format").get<int>() != kFormat) {
      return damaged("unknown format " + doc["format"].dump());
    }
    journal.op = doc.at("op").get<std::string>();
    journal.version = doc.at("version").get<std::string>();
    if (doc.contains("keep")) journal.keep = doc["keep"].get<int>();
  } catch (const nlohmann::json::exception& e) {
    return damaged(e.what());
  }
  if (Status s = ValidateVersion(journal.version); !s) return damaged(s.error().message);
  if (journal.keep && *journal.keep < 1) return damaged("keep below 1");
  return std::optional<Journal>(std::move(journal));
}

Status WriteJournal(const std::filesystem::path& path, const Journal& journal) {
  nlohmann::json doc{{"format", kFormat}, {"op", journal.op}, {"version", journal.version}};
  if (journal.keep) doc["keep"] = *journal.keep;
  return WriteFileAtomically(path, doc.dump() + "\n");
}

Status ClearJournal(const std::filesystem::path& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError("remove", path, errno);
  return FsyncDirectory(path.parent_path());
}

}  // namespace ferry::store
