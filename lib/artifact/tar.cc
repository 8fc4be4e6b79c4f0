#include "lib/artifact/tar.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ferry {
namespace {

constexpr size_t kBlock = 512;
constexpr uint64_t kMaxMemberSize = (uint64_t{1} << 33) - 1;  // 11 octal digits

using Header = std::array<char, kBlock>;

// width - 1 octal digits, zero-padded, then a NUL; callers keep values in range.
void PutOctal(char* field, size_t width, uint64_t value) {
  for (size_t i = width - 1; i-- > 0; value >>= 3) field[i] = static_cast<char>('0' + (value & 7));
  field[width - 1] = '\0';
}

uint32_t Checksum(const Header& header) {
  uint32_t sum = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    // The checksum field itself counts as spaces.
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(header[i]);
  }
  return sum;
}

Result<uint64_t> ParseOctal(const char* field, size_t width) {
  uint64_t value = 0;
  size_t i = 0;
  while (i < width && field[i] == ' ') ++i;
  bool any = false;
  for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i) {
    value = value * 8 + static_cast<uint64_t>(field[i] - '0');
    any = true;
    if (value > kMaxMemberSize) break;
  }
  if (!any || value > kMaxMemberSize) {
    return MakeError(ErrorCode::kCorrupt, "bad number in a tar header");
  }
  return value;
}

std::string FieldString(const char* field, size_t width) {
  return std::string(field, strnlen(field, width));
}

}  // namespace

Result<TarWriter> TarWriter::Create(const std::filesystem::path& path) {
  std::filesystem::path partial = path;
  partial += ".partial";
  UniqueFd fd(::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd.valid()) {
    if (errno == EEXIST) {
      return MakeError(ErrorCode::kAlreadyExists,
                       partial.string() +
                           " exists (another bundle being written, or one interrupted); "
                           "remove it if no bundle is running, then run again");
    }
    return ErrnoError("create", partial, errno);
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) {
    const int error_number = errno;
    ::unlink(partial.c_str());
    return ErrnoError("stat", partial, error_number);
  }
  return TarWriter(path, std::move(fd), info.st_dev, info.st_ino);
}

TarWriter::TarWriter(TarWriter&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::move(other.fd_)),
      device_(other.device_),
      inode_(other.inode_),
      done_(other.done_) {
  other.done_ = true;
}

TarWriter::~TarWriter() {
  if (done_) return;
  fd_.Reset();
  const std::filesystem::path partial = PartialPath();
  struct stat info {};
  if (::lstat(partial.c_str(), &info) == 0 && info.st_dev == device_ && info.st_ino == inode_) {
    ::unlink(partial.c_str());
  }
}

std::filesystem::path TarWriter::PartialPath() const {
  std::filesystem::path partial = path_;
  partial += ".partial";
  return partial;
}

Status TarWriter::WriteHeader(std::string_view name, uint64_t size) {
  if (size > kMaxMemberSize) {
    return MakeError(ErrorCode::kInvalidArgument, std::string(name) + ": too large for a bundle");
  }
  Header header{};
  std::string_view prefix;
  std::string_view rest = name;
  if (name.size() > 100) {
    const size_t slash = name.rfind('/', 155);
    if (slash == std::string_view::npos || name.size() - slash - 1 > 100) {
      return MakeError(ErrorCode::kInvalidArgument, std::string(name) + ": name too long");
    }
    prefix = name.substr(0, slash);
    rest = name.substr(slash + 1);
  }
  std::memcpy(header.data(), rest.data(), rest.size());
  PutOctal(&header[100], 8, 0644);
  PutOctal(&header[108], 8, 0);
  PutOctal(&header[116], 8, 0);
  PutOctal(&header[124], 12, size);
  PutOctal(&header[136], 12, 0);
  header[156] = '0';
  std::memcpy(&header[257], "ustar", 6);
  std::memcpy(&header[263], "00", 2);
  std::memcpy(&header[345], prefix.data(), prefix.size());
  PutOctal(&header[148], 7, Checksum(header));
  header[155] = ' ';
  return WriteAll(fd_.get(), std::string_view(header.data(), header.size()), path_);
}

Status TarWriter::Pad(uint64_t size) {
  static const std::array<char, kBlock> kZeros{};
  const size_t padding = (kBlock - size % kBlock) % kBlock;
  return WriteAll(fd_.get(), std::string_view(kZeros.data(), padding), path_);
}

Status TarWriter::AddBytes(std::string_view name, std::string_view contents) {
  if (Status s = WriteHeader(name, contents.size()); !s) return s;
  if (Status s = WriteAll(fd_.get(), contents, path_); !s) return s;
  return Pad(contents.size());
}

Status TarWriter::AddFile(std::string_view name, const std::filesystem::path& source) {
  Result<MappedFile> file = MappedFile::Open(source);
  if (!file) return file.error();
  if (Status s = WriteHeader(name, file->size()); !s) return s;
  if (Status s = WriteAll(fd_.get(), file->bytes(), path_); !s) return s;
  return Pad(file->size());
}

Status TarWriter::Finish() {
  static const std::array<char, 2 * kBlock> kEnd{};
  if (Status s = WriteAll(fd_.get(), std::string_view(kEnd.data(), kEnd.size()), path_); !s) {
    return s;
  }
  if (Status s = Fsync(fd_.get(), path_); !s) return s;
  fd_.Reset();
  const std::filesystem::path partial = PartialPath();
  if (::rename(partial.c_str(), path_.c_str()) != 0) return ErrnoError("rename", path_, errno);
  done_ = true;
  // A bundle is carried away on a disk right after: make its name durable too.
  return FsyncDirectory(path_.parent_path().empty() ? "." : path_.parent_path());
}

Result<TarIndex> TarIndex::Open(const std::filesystem::path& path) {
  Result<UniqueFd> fd = OpenForRead(path);
  if (!fd) return fd.error();
  struct stat info {};
  if (::fstat(fd->get(), &info) != 0) return ErrnoError("stat", path, errno);
  const uint64_t archive_size = static_cast<uint64_t>(info.st_size);
  TarIndex index(path, std::move(*fd));
  uint64_t offset = 0;
  while (offset + kBlock <= archive_size) {
    Header header{};
    if (Status s = ReadExactlyAt(
            index.fd(), std::span(reinterpret_cast<uint8_t*>(header.data()), header.size()), offset,
            path);
        !s) {
      return s.error();
    }
    if (std::all_of(header.begin(), header.end(), [](char c) { return c == 0; })) break;
    const std::string where = path.string() + " at byte " + std::to_string(offset);
    Result<uint64_t> stored_sum = ParseOctal(&header[148], 8);
    if (!stored_sum || *stored_sum != Checksum(header)) {
      return MakeError(ErrorCode::kCorrupt, where + ": damaged tar header (checksum)");
    }
    Result<uint64_t> size = ParseOctal(&header[124], 12);
    if (!size) return size.error().Wrap(where);
    const uint64_t data = offset + kBlock;
    if (data + *size > archive_size) {
      return MakeError(ErrorCode::kCorrupt, where +
                                                ": member runs past the end; the bundle is "
                                                "truncated (copy it again)");
    }
    if (header[156] == '0' || header[156] == '\0') {
      std::string name = FieldString(&header[0], 100);
      const std::string prefix = FieldString(&header[345], 155);
      if (!prefix.empty()) name = prefix + "/" + name;
      index.members_[name] = {data, *size};
    }
    offset = data + (*size + kBlock - 1) / kBlock * kBlock;
  }
  return index;
}

const TarMember* TarIndex::Find(std::string_view name) const {
  auto it = members_.find(name);
  return it == members_.end() ? nullptr : &it->second;
}

}  // namespace ferry
