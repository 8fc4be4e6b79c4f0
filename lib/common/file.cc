#include "lib/common/file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ferry {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = other.Release();
  }
  return *this;
}

int UniqueFd::Release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Error ErrnoError(std::string_view what, const std::filesystem::path& path, int error_number) {
  std::string message =
      std::string(what) + " " + path.string() + ": " + std::strerror(error_number);
  if (error_number == ENOSPC || error_number == EDQUOT) {
    message += " (free space on that filesystem or remove old versions, then retry)";
  }
  return MakeError(error_number == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo, message);
}

Result<UniqueFd> OpenForRead(const std::filesystem::path& path) {
  // O_NONBLOCK so that opening a FIFO returns at once instead of waiting for
  // a writer; it is refused just below, and has no effect on regular files.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) return ErrnoError("open", path, errno);
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return ErrnoError("stat", path, errno);
  if (!S_ISREG(info.st_mode)) {
    const char* kind = S_ISDIR(info.st_mode)    ? "a folder"
                       : S_ISFIFO(info.st_mode) ? "a FIFO"
                       : S_ISSOCK(info.st_mode) ? "a socket"
                                                : "a device";
    return MakeError(ErrorCode::kInvalidArgument,
                     path.string() + " is " + kind + ", not a regular file; give a regular file");
  }
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return ErrnoError("open", path, errno);
  }
  return fd;
}

Result<UniqueFd> CreateForWrite(const std::filesystem::path& path) {
  // O_NOFOLLOW: a symlink planted under the name must not aim the write at a
  // file elsewhere (Ferry writes as root on every node).
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    if (errno == ELOOP) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "create " + path.string() +
                           ": it is a symlink, which Ferry never writes "
                           "through; remove it or name the file itself");
    }
    return ErrnoError("create", path, errno);
  }
  return UniqueFd(fd);
}

Status WriteAll(int fd, std::span<const uint8_t> data, const std::filesystem::path& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write", path, errno);
    }
    done += static_cast<size_t>(n);
  }
  return OkStatus();
}

Status WriteAll(int fd, std::string_view data, const std::filesystem::path& path) {
  return WriteAll(fd, std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size()), path);
}

Status ReadExactlyAt(int fd, std::span<uint8_t> data, uint64_t offset,
                     const std::filesystem::path& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        ::pread(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read", path, errno);
    }
    if (n == 0) {
      return MakeError(ErrorCode::kCorrupt, "read " + path.string() + ": file ends at byte " +
                                                std::to_string(offset + done) + ", expected " +
                                                std::to_string(offset + data.size()));
    }
    done += static_cast<size_t>(n);
  }
  return OkStatus();
}

Status Fsync(int fd, const std::filesystem::path& path) {
  if (::fsync(fd) != 0) return ErrnoError("fsync", path, errno);
  return OkStatus();
}

Status FsyncDirectory(const std::filesystem::path& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open directory", directory, errno);
  UniqueFd owned(fd);
  return Fsync(owned.get(), directory);
}

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view contents) {
  std::filesystem::path temporary = path;
  temporary += ".tmp-" + std::to_string(::getpid());
  {
    // A fresh inode made here (O_EXCL), never whatever a leftover or planted
    // name points at.
    ::unlink(temporary.c_str());
    UniqueFd file(
        ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!file.valid()) return ErrnoError("create", temporary, errno);
    if (Status s = WriteAll(file.get(), contents, temporary); !s) return s;
    if (Status s = Fsync(file.get(), temporary); !s) return s;
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(temporary.c_str());
    return ErrnoError("rename into place", path, saved);
  }
  return FsyncDirectory(path.parent_path().empty() ? "." : path.parent_path());
}

Result<std::string> ReadFileToString(const std::filesystem::path& path) {
  Result<UniqueFd> file = OpenForRead(path);
  if (!file) return file.error();
  std::string contents;
  char buffer[65536];
  while (true) {
    const ssize_t n = ::read(file->get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read", path, errno);
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
  }
  return contents;
}

Result<MappedFile> MappedFile::Open(const std::filesystem::path& path) {
  Result<UniqueFd> file = OpenForRead(path);
  if (!file) return file.error();
  struct stat info {};
  if (::fstat(file->get(), &info) != 0) return ErrnoError("stat", path, errno);
  const size_t size = static_cast<size_t>(info.st_size);
  if (size == 0) return MappedFile(nullptr, 0);
  void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, file->get(), 0);
  if (data == MAP_FAILED) return ErrnoError("mmap", path, errno);
  ::madvise(data, size, MADV_SEQUENTIAL);
  return MappedFile(static_cast<const uint8_t*>(data), size);
}

MappedFile::~MappedFile() { Unmap(); }

MappedFile::MappedFile(MappedFile&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    Unmap();
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

void MappedFile::DropPages(size_t offset, size_t length) const {
  if (data_ == nullptr || offset >= size_) return;
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t start = offset / page * page;
  const size_t end = std::min(size_, offset + length);
  ::madvise(const_cast<uint8_t*>(data_) + start, end - start, MADV_DONTNEED);
}

void MappedFile::Unmap() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
}

}  // namespace ferry
