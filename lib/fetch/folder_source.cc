#include "lib/fetch/folder_source.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <system_error>
#include <vector>

#include "lib/common/file.h"
#include "lib/fetch/partial_file.h"
#include "lib/fetch/relative_path.h"

namespace ferry::fetch {
namespace {

// Large enough to keep system calls rare, small enough to throttle smoothly.
constexpr size_t kCopyBuffer = 1 << 20;

}  // namespace

Result<std::unique_ptr<Source>> FolderSource::Open(const std::filesystem::path& root,
                                                   const FetchOptions& options) {
  std::error_code error;
  std::filesystem::path canonical = std::filesystem::canonical(root, error);
  if (error || !std::filesystem::is_directory(canonical, error)) {
    return MakeError(ErrorCode::kNotFound, "repository folder " + root.string() +
                                               " does not exist or is not a folder; check "
                                               "the path (or the mount of the disk)");
  }
  return std::unique_ptr<Source>(
      std::make_unique<FolderSource>(std::move(canonical), options.bandwidth_limit));
}

Result<std::string> FolderSource::ReadSmall(std::string_view relative_path, uint64_t max_bytes) {
  Result<std::filesystem::path> path = ResolveFile(root_, relative_path);
  if (!path) return path.error();
  auto too_large = [&] {
    return MakeError(ErrorCode::kInvalidArgument, path->string() + " is larger than the " +
                                                      std::to_string(max_bytes) +
                                                      " bytes allowed for it");
  };
  std::error_code error;
  const uint64_t size = std::filesystem::file_size(*path, error);
  if (error) return ErrnoError("stat", *path, error.value());
  if (size > max_bytes) return too_large();
  Result<std::string> contents = ReadFileToString(*path);
  if (!contents) return contents.error();
  if (contents->size() > max_bytes) return too_large();  // it grew since the stat
  limiter_.Acquire(contents->size());
  return contents;
}

FolderSource::FolderSource(std::filesystem::path root, uint64_t bandwidth_limit)
    : root_(std::move(root)),
      limiter_(bandwidth_limit),
      block_(bandwidth_limit == 0 ? kCopyBuffer
                                  : static_cast<size_t>(std::clamp<uint64_t>(bandwidth_limit / 16,
                                                                             4096, kCopyBuffer))) {}

Status FolderSource::FetchToFile(std::string_view relative_path,
                                 const std::filesystem::path& destination,
                                 std::optional<uint64_t> expected_size, Progress* progress) {
  Result<std::filesystem::path> path = ResolveFile(root_, relative_path);
  if (!path) return path.error();
  Result<UniqueFd> input = OpenForRead(*path);
  if (!input) return input.error();
  struct stat info {};
  if (::fstat(input->get(), &info) != 0) return ErrnoError("stat", *path, errno);
  const uint64_t size = static_cast<uint64_t>(info.st_size);
  if (expected_size && size != *expected_size) {
    return MakeError(ErrorCode::kCorrupt, path->string() + " has " + std::to_string(size) +
                                              " bytes, expected " + std::to_string(*expected_size));
  }

  Result<PartialFile> output = PartialFile::Open(destination, size);
  if (!output) return output.error();
  if (progress != nullptr) progress->Add(output->size());
  std::vector<char> buffer(block_);
  while (output->size() < size) {
    const size_t wanted = std::min<uint64_t>(buffer.size(), size - output->size());
    const ssize_t n =
        ::pread(input->get(), buffer.data(), wanted, static_cast<off_t>(output->size()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read", *path, errno);
    }
    if (n == 0) break;  // the file shrank since fstat; CheckComplete reports it
    limiter_.Acquire(static_cast<uint64_t>(n));
    if (Status appended = output->Append({buffer.data(), static_cast<size_t>(n)}); !appended) {
      return appended;
    }
    if (progress != nullptr) {
      progress->Add(static_cast<uint64_t>(n));
      if (progress->stop_requested()) {
        return MakeError(ErrorCode::kCancelled, "copy of " + path->string() + " cancelled");
      }
    }
  }
  return output->CheckComplete(path->string());
}

}  // namespace ferry::fetch
