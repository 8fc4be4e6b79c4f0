#include "lib/common/names.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace ferry {
namespace {

bool IsNameCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

constexpr size_t kMaxVersionBytes = 128;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// SemVer's identifier characters: ASCII letters, digits and '-'.
bool IsIdentifierCharacter(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

// Calls `visit` with each '.'-separated part of `list`, empty ones included.
template <typename Visit>
void ForEachIdentifier(std::string_view list, Visit visit) {
  size_t start = 0;
  while (true) {
    const size_t end = list.find('.', start);
    visit(list.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return;
    start = end + 1;
  }
}

// What is wrong with one pre-release or build identifier, or "" when nothing is.
std::string IdentifierProblem(std::string_view id, std::string_view part) {
  if (id.empty()) return "the " + std::string(part) + " part has an empty identifier";
  const auto wrong = std::find_if_not(id.begin(), id.end(), IsIdentifierCharacter);
  if (wrong == id.end()) return "";
  const std::string shown = std::isprint(static_cast<unsigned char>(*wrong))
                                ? "'" + std::string(1, *wrong) + "'"
                                : "a control or non-ASCII byte";
  return "the " + std::string(part) + " identifier '" + std::string(id) + "' contains " + shown +
         " (only letters, digits and '-' are allowed)";
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
  auto bad = [&](const std::string& why) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "version '" + std::string(version) + "' is not a SemVer 2.0.0 version: " +
                         why + "; write it like 1.1.0, 2.0.0-rc.1 or 1.1.0+build.7");
  };
  if (version.empty()) return bad("it is empty");
  if (version.size() > kMaxVersionBytes) {
    return bad("it is longer than " + std::to_string(kMaxVersionBytes) + " characters");
  }
  // The core ends at the first '-' or '+': neither may appear in its numbers.
  const size_t build_at = version.find('+');
  const size_t pre_at = version.substr(0, build_at).find('-');
  const std::string_view core = version.substr(0, std::min(pre_at, build_at));
  if (core.empty()) return bad("it must start with MAJOR.MINOR.PATCH");
  if (core.front() == 'v' || core.front() == 'V') return bad("drop the leading 'v'");
  size_t numbers = 0;
  std::string problem;
  ForEachIdentifier(core, [&](std::string_view number) {
    ++numbers;
    if (!problem.empty()) return;
    if (number.empty() || !std::all_of(number.begin(), number.end(), IsDigit)) {
      problem = "MAJOR.MINOR.PATCH must be numbers, not '" + std::string(number) + "'";
    } else if (number.size() > 1 && number.front() == '0') {
      problem = "the number '" + std::string(number) + "' has a leading zero";
    }
  });
  if (!problem.empty()) return bad(problem);
  if (numbers != 3) return bad("it needs exactly three numbers MAJOR.MINOR.PATCH");
  if (pre_at != std::string_view::npos) {
    const std::string_view pre = version.substr(pre_at + 1, build_at - pre_at - 1);
    ForEachIdentifier(pre, [&](std::string_view id) {
      if (!problem.empty()) return;
      problem = IdentifierProblem(id, "pre-release");
      if (problem.empty() && id.size() > 1 && id.front() == '0' &&
          std::all_of(id.begin(), id.end(), IsDigit)) {
        problem = "the pre-release number '" + std::string(id) + "' has a leading zero";
      }
    });
    if (!problem.empty()) return bad(problem);
  }
  if (build_at != std::string_view::npos) {
    ForEachIdentifier(version.substr(build_at + 1), [&](std::string_view id) {
      if (problem.empty()) problem = IdentifierProblem(id, "build");
    });
    if (!problem.empty()) return bad(problem);
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
