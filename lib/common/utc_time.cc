#include "lib/common/utc_time.h"

#include <cstdio>
#include <ctime>

namespace ferry {
namespace {

std::string Format(std::chrono::system_clock::time_point time, bool micro) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(time);
  const std::time_t t = std::chrono::system_clock::to_time_t(seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[40];
  const size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::string out(text, n);
  if (micro) {
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(time - seconds).count();
    char fraction[24];
    std::snprintf(fraction, sizeof fraction, ".%06lld", static_cast<long long>(micros));
    out += fraction;
  }
  return out + "Z";
}

}  // namespace

std::string FormatTime(std::chrono::system_clock::time_point time) { return Format(time, false); }
std::string FormatMicroTime(std::chrono::system_clock::time_point time) {
  return Format(time, true);
}

std::optional<std::chrono::system_clock::time_point> ParseTime(std::string_view text) {
  std::tm utc{};
  const std::string copy(text);
  const char* rest = strptime(copy.c_str(), "%Y-%m-%dT%H:%M:%S", &utc);
  if (rest == nullptr) return std::nullopt;
  // system_clock counts nanoseconds in 64 bits: years past 2262 (which a
  // hostile API answer may well write) would overflow it, so they are refused.
  const time_t seconds = timegm(&utc);
  constexpr auto kLatest = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::time_point::max().time_since_epoch())
                               .count() -
                           1;
  if (seconds < -kLatest || seconds > kLatest) return std::nullopt;
  auto time = std::chrono::system_clock::from_time_t(seconds);
  if (*rest == '.') {
    ++rest;
    int64_t micros = 0;
    int digits = 0;
    for (; *rest >= '0' && *rest <= '9'; ++rest) {
      if (digits < 6) micros = micros * 10 + (*rest - '0'), ++digits;
    }
    for (; digits < 6; ++digits) micros *= 10;
    time += std::chrono::microseconds(micros);
  }
  if (std::string_view(rest) != "Z") return std::nullopt;  // the API always writes UTC
  return time;
}

}  // namespace ferry
