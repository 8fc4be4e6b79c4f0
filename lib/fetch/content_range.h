// The Content-Range header of a 206 or 416 answer, which tells a resuming
// client where the bytes it gets start and how long the whole file is:
// "bytes FIRST-LAST/LENGTH", or "bytes */LENGTH" for an unsatisfiable range,
// with "*" for a LENGTH the server does not know.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ferry::fetch {

struct ContentRange {
  std::optional<uint64_t> first;   // absent in "bytes */LENGTH"
  std::optional<uint64_t> last;    // inclusive; absent with `first`
  std::optional<uint64_t> length;  // absent when "*"
};

// nullopt when `header` is not of that form.
std::optional<ContentRange> ParseContentRange(std::string_view header);

}  // namespace ferry::fetch
