// Verify: re-hash a complete version against the file list stored with it,
// to find damage done after activation (a bad disk, a hand edit).
#include "lib/common/parallel_for.h"
#include "lib/store/current_link.h"
#include "lib/store/file_check.h"
#include "lib/store/file_list.h"
#include "lib/store/store.h"
#include "lib/store/tree.h"

namespace ferry::store {

Status Store::Verify(std::string_view model, std::optional<std::string_view> version) const {
  Result<ModelLayout> layout = ExistingLayout(model);
  if (!layout) return layout.error().Wrap("verify");
  std::string chosen;
  if (version) {
    chosen = *version;
  } else {
    Result<std::optional<std::string>> current = ReadCurrent(*layout);
    if (!current) return current.error().Wrap("verify " + std::string(model));
    if (!*current) {
      return MakeError(ErrorCode::kNotFound,
                       "verify " + std::string(model) + ": no version is current yet");
    }
    chosen = **current;
  }
  const std::string context = "verify " + std::string(model) + " " + chosen;
  Result<std::filesystem::path> dir = VersionPath(model, chosen);
  if (!dir) return dir.error().Wrap(context);

  auto damaged = [&](const Error& error) {
    return error.Wrap(context +
                      ": the version is damaged (pull it again, or roll back if it "
                      "is current)");
  };
  Result<std::vector<FileEntry>> files = ReadFileList(layout->files_json(chosen));
  if (!files) return damaged(files.error());
  Result<Tree> tree = ScanTree(*dir);
  if (!tree) return damaged(tree.error());
  if (Status s = CompareFileSets(tree->files, *files); !s) return damaged(s.error());
  std::vector<Status> checked(files->size());
  ParallelFor(files->size(), DefaultThreads(), [&](size_t i) {
    checked[i] = CheckFileContent(*dir / (*files)[i].path, (*files)[i], /*trusted=*/false);
  });
  size_t damaged_files = 0;
  const Status* first = nullptr;
  for (const Status& s : checked) {
    if (s.ok()) continue;
    ++damaged_files;
    if (first == nullptr) first = &s;
  }
  if (first == nullptr) return OkStatus();
  Error error = first->error();
  if (damaged_files > 1) error.message += " (" + std::to_string(damaged_files) + " files in all)";
  return damaged(error);
}

}  // namespace ferry::store
