#include "ctl/flags.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <limits>

namespace ferry::ctl {
namespace {

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

// What stat says `path` is ("a FIFO"), or an error when it names nothing.
Result<mode_t> KindOf(const std::filesystem::path& path) {
  if (path.empty()) return Invalid("the path is empty");
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    const int error_number = errno;
    if (error_number == ENOENT || error_number == ENOTDIR) {
      return MakeError(ErrorCode::kNotFound, path.string() + " does not exist");
    }
    return MakeError(ErrorCode::kIo,
                     "cannot stat " + path.string() + ": " + std::strerror(error_number));
  }
  return info.st_mode;
}

std::string Describe(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISREG(mode)) return "a regular file";
  return "of an unknown kind";
}

}  // namespace

Result<uint64_t> ParseByteSize(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Invalid("'" + std::string(text) + "' is not a size: " + why +
                   "; give a count of bytes such as 1048576, 512K or 50M");
  };
  const auto digits_end =
      std::find_if_not(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits_end == text.begin()) {
    return bad(text.empty()          ? "it is empty"
               : text.front() == '-' ? "it is negative"
                                     : "it must start with a digit");
  }
  uint64_t count = 0;
  for (auto it = text.begin(); it != digits_end; ++it) {
    const uint64_t digit = static_cast<uint64_t>(*it - '0');
    if (count > (std::numeric_limits<uint64_t>::max() - digit) / 10) return bad("it is too large");
    count = count * 10 + digit;
  }
  std::string unit(digits_end, text.end());
  std::transform(unit.begin(), unit.end(), unit.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  uint64_t factor = 1;
  if (!unit.empty() && unit != "b") {
    constexpr std::string_view kPrefixes = "kmgtpe";
    const size_t power = kPrefixes.find(unit.front());
    const std::string_view rest = std::string_view(unit).substr(1);
    if (power == std::string_view::npos ||
        !(rest.empty() || rest == "b" || rest == "i" || rest == "ib")) {
      return bad("unknown unit '" + std::string(digits_end, text.end()) + "' (use K, M, G or T)");
    }
    for (size_t i = 0; i <= power; ++i) factor *= 1024;
  }
  if (count > std::numeric_limits<uint64_t>::max() / factor) return bad("it is too large");
  return count * factor;
}

Status CheckInputFile(const std::filesystem::path& path) {
  Result<mode_t> kind = KindOf(path);
  if (!kind) return kind.error();
  if (!S_ISREG(*kind)) {
    return Invalid(path.string() + " is " + Describe(*kind) + ", not a regular file; give a file");
  }
  return OkStatus();
}

Status CheckInputFolder(const std::filesystem::path& path) {
  Result<mode_t> kind = KindOf(path);
  if (!kind) return kind.error();
  if (!S_ISDIR(*kind)) return Invalid(path.string() + " is not a folder; give a folder");
  return OkStatus();
}

Status CheckFolderToCreate(const std::filesystem::path& path) {
  Result<mode_t> kind = KindOf(path);
  if (!kind) {
    return kind.error().code == ErrorCode::kNotFound ? OkStatus() : Status(kind.error());
  }
  if (!S_ISDIR(*kind)) return Invalid(path.string() + " is " + Describe(*kind) + ", not a folder");
  return OkStatus();
}

Status CheckInputFileOrFolder(const std::filesystem::path& path) {
  Result<mode_t> kind = KindOf(path);
  if (!kind) return kind.error();
  if (!S_ISREG(*kind) && !S_ISDIR(*kind)) {
    return Invalid(path.string() + " is " + Describe(*kind) +
                   ", neither a regular file nor a folder");
  }
  return OkStatus();
}

Status CheckOutputFile(const std::filesystem::path& path) {
  struct stat link {};
  if (::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
    return Invalid(path.string() +
                   " is a symlink, which ferryctl never writes through; remove it or name the "
                   "file itself");
  }
  Result<mode_t> kind = KindOf(path);
  if (!kind) {
    return kind.error().code == ErrorCode::kNotFound ? OkStatus() : Status(kind.error());
  }
  if (!S_ISREG(*kind)) {
    return Invalid(path.string() + " is " + Describe(*kind) +
                   "; ferryctl writes only regular files, give a new path or a file to replace");
  }
  return OkStatus();
}

std::optional<std::string> FirstBadFlag(std::initializer_list<FlagCheck> checks) {
  for (const FlagCheck& check : checks) {
    if (!check.status) return std::string(check.flag) + ": " + check.status.error().message;
  }
  return std::nullopt;
}

}  // namespace ferry::ctl
