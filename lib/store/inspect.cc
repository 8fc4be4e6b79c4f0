// Reading the store: what models and versions it holds and where. None of
// this takes a lock: `current` is switched by rename and a version appears in
// versions/ only once complete, so a reader never sees a half-made state.
#include <algorithm>

#include "lib/common/file.h"
#include "lib/common/names.h"
#include "lib/store/current_link.h"
#include "lib/store/file_list.h"
#include "lib/store/history.h"
#include "lib/store/recovery.h"
#include "lib/store/store.h"
#include "lib/store/tree.h"

namespace ferry::store {

Result<std::vector<ModelInfo>> Store::List() const {
  Result<std::vector<std::string>> names = ListNames(root_);
  if (!names) return names.error();
  std::ranges::sort(*names);
  std::vector<ModelInfo> models;
  for (const std::string& name : *names) {
    if (!ValidateModelName(name).ok() || !IsFolder(root_ / name)) continue;
    Result<ModelInfo> model = Describe(name);
    // One model that cannot be read is reported as such; the others still are.
    if (!model) {
      models.push_back({name, std::nullopt, {}, {model.error().message}});
      continue;
    }
    models.push_back(std::move(*model));
  }
  return models;
}

Result<ModelInfo> Store::Describe(std::string_view model) const {
  Result<ModelLayout> layout = ExistingLayout(model);
  if (!layout) return layout.error();
  ModelInfo info{std::string(model), std::nullopt, {}, {}};
  if (Status s = CheckOwnFolders(*layout); !s) {
    info.damage.push_back(s.error().message);
    return info;
  }
  Result<std::optional<std::string>> current = ReadCurrent(*layout);
  if (current) {
    info.current = *current;
  } else {
    info.damage.push_back(current.error().message);
  }
  Result<History> loaded = LoadHistory(layout->state());
  if (!loaded) info.damage.push_back(loaded.error().message);
  const History history = loaded ? *loaded : History{};
  Result<std::vector<std::string>> names = ListNames(layout->versions());
  if (!names) return names.error();
  std::ranges::sort(*names);

  for (const std::string& version : *names) {
    if (!ValidateVersion(version).ok() || !IsFolder(layout->version(version))) continue;
    Result<std::vector<FileEntry>> files = ReadFileList(layout->files_json(version));
    // A sweep in another process may have taken it since we listed it.
    if (!files && !IsFolder(layout->version(version))) continue;
    VersionInfo entry{version, version == info.current, 0, "", ""};
    if (files) {
      for (const FileEntry& file : *files) entry.bytes += file.size;
    } else {
      entry.damage = files.error().message;
    }
    if (const Activation* a = history.Find(version)) entry.activated_at = a->activated_at;
    info.versions.push_back(std::move(entry));
  }
  // Most recently activated first; any the history lacks last, by name.
  auto rank = [&](const VersionInfo& v) {
    const Activation* a = history.Find(v.version);
    return a ? static_cast<size_t>(a - history.activations.data()) : SIZE_MAX;
  };
  std::ranges::stable_sort(info.versions, {}, rank);
  return info;
}

Result<std::optional<std::string>> Store::CurrentVersion(std::string_view model) const {
  Result<ModelLayout> layout = ExistingLayout(model);
  if (!layout) return layout.error();
  return ReadCurrent(*layout);
}

Result<std::filesystem::path> Store::VersionPath(std::string_view model,
                                                 std::string_view version) const {
  Result<ModelLayout> layout = ExistingLayout(model);
  if (!layout) return layout.error();
  if (Status s = ValidateVersion(version); !s) return s.error();
  if (!IsFolder(layout->version(version))) {
    return MakeError(ErrorCode::kNotFound, "version " + std::string(version) + " of model " +
                                               std::string(model) + " is not in the store at " +
                                               root_.string() + " (or not complete yet)");
  }
  return layout->version(version);
}

Result<std::string> Store::ReadManifest(std::string_view model, std::string_view version) const {
  Result<std::filesystem::path> path = VersionPath(model, version);
  if (!path) return path.error();
  return ReadFileToString(ModelLayout{root_, std::string(model)}.manifest(version));
}

Result<std::string> Store::ReadSignature(std::string_view model, std::string_view version) const {
  Result<std::filesystem::path> path = VersionPath(model, version);
  if (!path) return path.error();
  return ReadFileToString(ModelLayout{root_, std::string(model)}.signature(version));
}

Result<std::vector<FileEntry>> Store::ReadFiles(std::string_view model,
                                                std::string_view version) const {
  Result<std::filesystem::path> path = VersionPath(model, version);
  if (!path) return path.error();
  return ReadFileList(ModelLayout{root_, std::string(model)}.files_json(version));
}

}  // namespace ferry::store
