// Time as text, RFC 3339 in UTC: how Ferry's own files (manifests, the
// store's history) and the Kubernetes API write it. "Time" is to the second
// (2026-12-01T08:12:10Z); "MicroTime" to the microsecond, as Leases and
// Events need (2026-12-01T08:12:10.123456Z). Seconds are truncated, never
// rounded, so a time never appears later than it was.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ferry {

std::string FormatTime(std::chrono::system_clock::time_point time);
std::string FormatMicroTime(std::chrono::system_clock::time_point time);
// Either form (any number of fractional digits, kept to the microsecond);
// nullopt for anything else, including offsets other than Z and times the
// clock cannot hold (after 2262).
std::optional<std::chrono::system_clock::time_point> ParseTime(std::string_view text);

}  // namespace ferry
