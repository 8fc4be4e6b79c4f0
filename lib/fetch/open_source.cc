// Picks the Source for a repository location by its form.
#include <string>

#include "lib/fetch/folder_source.h"
#include "lib/fetch/http_source.h"
#include "lib/fetch/source.h"

namespace ferry::fetch {

Result<std::unique_ptr<Source>> OpenSource(std::string_view url_or_path,
                                           const FetchOptions& options) {
  if (url_or_path.starts_with("http://") || url_or_path.starts_with("https://")) {
    return HttpSource::Open(url_or_path, options);
  }
  constexpr std::string_view kFileScheme = "file://";
  if (url_or_path.starts_with(kFileScheme)) {
    const std::string_view path = url_or_path.substr(kFileScheme.size());
    if (!path.starts_with('/')) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "repository URL " + std::string(url_or_path) +
                           " names no absolute path; write file:///absolute/path");
    }
    return FolderSource::Open(path, options);
  }
  if (url_or_path.find("://") != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "repository " + std::string(url_or_path) +
                         " uses a scheme Ferry cannot fetch from; use http://, https://, "
                         "file:// or a folder path");
  }
  if (url_or_path.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "no repository given; pass a URL or a folder");
  }
  return FolderSource::Open(url_or_path, options);
}

}  // namespace ferry::fetch
