#include "lib/store/history.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "lib/common/file.h"
#include "lib/common/json_view.h"
#include "lib/common/names.h"

namespace ferry::store {
namespace {

constexpr int kFormat = 1;

}  // namespace

const Activation* History::Find(std::string_view version) const {
  const auto it = std::ranges::find(activations, version, &Activation::version);
  return it == activations.end() ? nullptr : &*it;
}

bool History::IsStaged(std::string_view version) const {
  return std::ranges::find(staged, version, &StagedVersion::version) != staged.end();
}

void History::RecordActivation(std::string_view version, std::string activated_at) {
  Erase(version);
  activations.insert(activations.begin(), {std::string(version), std::move(activated_at)});
}

void History::RecordStaged(std::string_view version, std::string staged_at) {
  if (Find(version) != nullptr || IsStaged(version)) return;
  staged.push_back({std::string(version), std::move(staged_at)});
}

void History::Erase(std::string_view version) {
  std::erase_if(activations, [&](const Activation& a) { return a.version == version; });
  std::erase_if(staged, [&](const StagedVersion& s) { return s.version == version; });
}

void History::Truncate(size_t keep) {
  if (activations.size() > keep) activations.resize(keep);
}

Result<History> LoadHistory(const std::filesystem::path& state) {
  Result<std::string> text = ReadFileToString(state);
  if (!text) {
    if (text.error().code == ErrorCode::kNotFound) return History{};
    return text.error();
  }
  auto damaged = [&](const std::string& why) {
    return MakeError(ErrorCode::kCorrupt,
                     state.string() + " is damaged (" + why +
                         "); restore it, or delete it to keep only the current version");
  };
  auto doc = ParseJson(*text, "history", ErrorCode::kCorrupt);
  if (!doc) return damaged(doc.error().message);
  const JsonView root(*doc, "", ErrorCode::kCorrupt);
  FirstError first;
  const int64_t format = first(root.RequiredInt("format"));
  if (!first.ok()) return damaged(first.error().message);
  if (format != kFormat) return damaged("unknown format " + std::to_string(format));
  History history;
  for (const JsonView& item : first(root.RequiredItems("activations"))) {
    Activation activation{first(item.RequiredString("version")),
                          first(item.RequiredString("activated_at"))};
    if (!first.ok()) break;
    if (Status s = ValidateVersion(activation.version); !s) return damaged(s.error().message);
    history.activations.push_back(std::move(activation));
  }
  for (const JsonView& item : first(root.ItemsOr("staged"))) {
    StagedVersion staged{first(item.RequiredString("version")),
                         first(item.RequiredString("staged_at"))};
    if (!first.ok()) break;
    if (Status s = ValidateVersion(staged.version); !s) return damaged(s.error().message);
    if (history.Find(staged.version) != nullptr || history.IsStaged(staged.version)) {
      return damaged(staged.version + " is listed twice");
    }
    history.staged.push_back(std::move(staged));
  }
  if (!first.ok()) return damaged(first.error().message);
  return history;
}

Status SaveHistory(const std::filesystem::path& state, const History& history) {
  nlohmann::json activations = nlohmann::json::array();
  for (const Activation& a : history.activations) {
    activations.push_back({{"version", a.version}, {"activated_at", a.activated_at}});
  }
  nlohmann::json doc{{"format", kFormat}, {"activations", activations}};
  if (!history.staged.empty()) {
    nlohmann::json staged = nlohmann::json::array();
    for (const StagedVersion& s : history.staged) {
      staged.push_back({{"version", s.version}, {"staged_at", s.staged_at}});
    }
    doc["staged"] = std::move(staged);
  }
  return WriteFileAtomically(state, doc.dump(1) + "\n");
}

}  // namespace ferry::store
