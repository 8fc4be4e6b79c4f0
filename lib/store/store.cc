// Opening a store, finding a model's folder, and the recovery every writing
// call starts with.
#include "lib/store/store.h"

#include <sys/stat.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "lib/common/file.h"
#include "lib/common/names.h"
#include "lib/store/recovery.h"

namespace ferry::store {
namespace {

// The store's on-disk format, in <root>/.ferry-store. Bumped when a change
// would mislead an older ferry; an older ferry then refuses the store.
constexpr int kStoreFormat = 1;

Status CheckMarker(const std::filesystem::path& marker, bool create) {
  Result<std::string> text = ReadFileToString(marker);
  if (!text) {
    if (text.error().code != ErrorCode::kNotFound || !create) return text.error();
    const nlohmann::json doc{{"kind", "ferry-store"}, {"format", kStoreFormat}};
    return WriteFileAtomically(marker, doc.dump() + "\n");
  }
  int format = 0;
  try {
    const nlohmann::json doc = nlohmann::json::parse(*text);
    if (doc.at("kind").get<std::string>() == "ferry-store") format = doc.at("format").get<int>();
  } catch (const nlohmann::json::exception&) {
  }
  if (format == kStoreFormat) return OkStatus();
  if (format > kStoreFormat) {
    return MakeError(ErrorCode::kInvalidArgument,
                     marker.parent_path().string() + " holds a store of format " +
                         std::to_string(format) + "; this ferry reads format " +
                         std::to_string(kStoreFormat) + ": upgrade ferry");
  }
  return MakeError(ErrorCode::kCorrupt, marker.string() +
                                            " is not a ferry store marker; is this the right "
                                            "folder? If so, delete the marker and retry");
}

}  // namespace

Result<Store> Store::Open(const std::filesystem::path& root) {
  std::error_code error;
  std::filesystem::create_directories(root, error);
  if (error) return ErrnoError("create store folder", root, error.value());
  if (Status s = CheckMarker(root / ".ferry-store", /*create=*/true); !s)
    return s.error().Wrap("open store");
  return Store(root);
}

Result<Store> Store::OpenExisting(const std::filesystem::path& root) {
  const std::filesystem::path marker = root / ".ferry-store";
  struct stat info {};
  // The root is the caller's choice, not a store internal: a link to it is
  // followed, as Store::Open does.
  if (::stat(root.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return MakeError(ErrorCode::kNotFound, "no store at " + root.string() +
                                               ": the folder does not exist (check --store)");
  }
  if (::lstat(marker.c_str(), &info) != 0) {
    return MakeError(ErrorCode::kNotFound, "no store at " + root.string() + ": " + marker.string() +
                                               " is missing (check --store; pull creates a store)");
  }
  if (Status s = CheckMarker(marker, /*create=*/false); !s) return s.error().Wrap("open store");
  return Store(root);
}

Result<ModelLayout> Store::Layout(std::string_view model) const {
  if (Status s = ValidateModelName(model); !s) return s.error();
  return ModelLayout{root_, std::string(model)};
}

Result<ModelLayout> Store::ExistingLayout(std::string_view model) const {
  Result<ModelLayout> layout = Layout(model);
  if (!layout) return layout;
  struct stat info {};
  if (::lstat(layout->dir().c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return MakeError(ErrorCode::kNotFound,
                     "model " + std::string(model) + " is not in the store at " + root_.string());
  }
  return layout;
}

Result<ModelLock> Store::LockAndRecover(const ModelLayout& layout) {
  Result<ModelLock> lock = ModelLock::Acquire(layout);
  if (!lock) return lock;
  if (Status s = CheckOwnFolders(layout); !s) return s.error();
  if (Status s = store::Recover(layout); !s) {
    return s.error().Wrap("finish the interrupted update of model " + layout.model);
  }
  return lock;
}

Status Store::Recover(std::string_view model) {
  Result<ModelLayout> layout = ExistingLayout(model);
  if (!layout) return layout.error();
  Result<ModelLock> lock = LockAndRecover(*layout);
  if (!lock) return lock.error();
  return OkStatus();
}

}  // namespace ferry::store
