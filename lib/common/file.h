// Files as RAII values: an owned descriptor, a read-only memory map, and the
// durability steps (fsync of files and directories, atomic rename) that crash
// safety rests on. Every failure comes back as an Error naming the path and the
// operating system's reason.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "lib/common/result.h"

namespace ferry {

// An owned file descriptor; closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release();
  void Reset();

 private:
  int fd_ = -1;
};

// Builds an Error from errno: "<what> <path>: <strerror>", coded kIo (or
// kNotFound for ENOENT), with a hint when the disk is full.
Error ErrnoError(std::string_view what, const std::filesystem::path& path, int error_number);

// Opens a regular file (symlinks followed); a folder, FIFO, socket or device
// is refused with kInvalidArgument at once, never waited on.
Result<UniqueFd> OpenForRead(const std::filesystem::path& path);
// Creates or truncates `path` for writing, mode 0644; refuses (kInvalidArgument)
// to write through a symlink.
Result<UniqueFd> CreateForWrite(const std::filesystem::path& path);

// Writes all of `data`, retrying short writes and EINTR.
Status WriteAll(int fd, std::span<const uint8_t> data,
                const std::filesystem::path& path_for_errors);
Status WriteAll(int fd, std::string_view data, const std::filesystem::path& path_for_errors);
// Reads exactly data.size() bytes at `offset`, or fails (a short file is kCorrupt).
Status ReadExactlyAt(int fd, std::span<uint8_t> data, uint64_t offset,
                     const std::filesystem::path& path_for_errors);

Status Fsync(int fd, const std::filesystem::path& path_for_errors);
// fsyncs a directory so that the names created, renamed or removed in it are durable.
Status FsyncDirectory(const std::filesystem::path& directory);

// Writes `contents` to `path` so that a crash leaves either the old file or the
// new one, never a mix: write to a temporary name beside it, fsync, rename,
// fsync the directory.
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view contents);

Result<std::string> ReadFileToString(const std::filesystem::path& path);

// A whole file mapped read-only. Pages come from the page cache, so a large
// model costs no anonymous memory. An empty file maps to an empty span.
class MappedFile {
 public:
  static Result<MappedFile> Open(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  size_t size() const { return size_; }
  // Tells the kernel these pages will not be read again (keeps page cache low
  // while streaming through files larger than memory).
  void DropPages(size_t offset, size_t length) const;

 private:
  MappedFile(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  void Unmap();
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace ferry
