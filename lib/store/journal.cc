#include "lib/store/journal.h"

#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "lib/common/file.h"
#include "lib/common/json_view.h"
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
  auto doc = ParseJson(*text, "journal", ErrorCode::kCorrupt);
  if (!doc) return damaged(doc.error().message);
  const JsonView root(*doc, "", ErrorCode::kCorrupt);
  FirstError first;
  const int64_t format = first(root.RequiredInt("format"));
  Journal journal;
  journal.op = first(root.RequiredString("op"));
  journal.version = first(root.RequiredString("version"));
  const std::optional<int64_t> keep = first(root.OptionalInt("keep"));
  if (!first.ok()) return damaged(first.error().message);
  if (format != kFormat) return damaged("unknown format " + std::to_string(format));
  if (journal.op != "activate" && journal.op != "rollback" && journal.op != kJournalHold) {
    return damaged("unknown op \"" + journal.op + "\"");
  }
  if (keep) journal.keep = static_cast<int>(*keep);
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
