#include "lib/common/names.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace ferry {
namespace {

bool IsNameCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

}  // namespace

Status ValidateModelName(std::string_view model) {
  auto letter_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  const bool ok = !model.empty() && model.size() <= 253 &&
                  std::all_of(model.begin(), model.end(), IsNameCharacter) &&
                  letter_or_digit(model.front()) && letter_or_digit(model.back());
  if (!ok) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "model name '" + std::string(model) +
                         "' is not valid: use lowercase letters, digits, '-', '.' and '_', "
                         "starting and ending with a letter or digit");
  }
  return OkStatus();
}

Status ValidateVersion(std::string_view version) {
  auto allowed = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+';
  };
  const bool ok = !version.empty() && version.size() <= 128 &&
                  std::all_of(version.begin(), version.end(), allowed) &&
                  std::isalnum(static_cast<unsigned char>(version.front())) &&
                  version.find("..") == std::string_view::npos;
  if (!ok) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "version '" + std::string(version) +
                         "' is not valid: use a SemVer such as 1.1.0 or 2.0.0-rc.1");
  }
  return OkStatus();
}

Status ValidateRelativePath(std::string_view path) {
  auto bad = [&](const std::string& why) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "path '" + std::string(path) + "' is not allowed: " + why);
  };
  if (path.empty()) return bad("empty");
  if (path.size() > 4096) return bad("longer than 4096 bytes");
  if (path.front() == '/') return bad("absolute; paths must be relative to the model's root");
  if (path.find('\\') != std::string_view::npos) return bad("contains a backslash");
  if (path.find('\0') != std::string_view::npos) return bad("contains a NUL byte");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view part = path.substr(start, end - start);
    if (part.empty()) return bad("has an empty component");
    if (part == "." || part == "..") return bad("has a '" + std::string(part) + "' component");
    if (part.size() > 255) return bad("has a component longer than 255 bytes");
    start = end + 1;
  }
  return OkStatus();
}

}  // namespace ferry
