#include "lib/fetch/content_range.h"

#include <charconv>

namespace ferry::fetch {
namespace {

// Parses all of `text` as a decimal number.
std::optional<uint64_t> ParseNumber(std::string_view text) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::optional<ContentRange> ParseContentRange(std::string_view header) {
  constexpr std::string_view kUnit = "bytes ";
  if (!header.starts_with(kUnit)) return std::nullopt;
  header.remove_prefix(kUnit.size());
  const size_t slash = header.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view range = header.substr(0, slash);
  const std::string_view length = header.substr(slash + 1);

  ContentRange parsed;
  if (length != "*") {
    parsed.length = ParseNumber(length);
    if (!parsed.length) return std::nullopt;
  }
  if (range == "*") return parsed.length ? std::optional(parsed) : std::nullopt;
  const size_t dash = range.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  parsed.first = ParseNumber(range.substr(0, dash));
  parsed.last = ParseNumber(range.substr(dash + 1));
  if (!parsed.first || !parsed.last || *parsed.last < *parsed.first) return std::nullopt;
  if (parsed.length && *parsed.last >= *parsed.length) return std::nullopt;
  return parsed;
}

}  // namespace ferry::fetch
