#include "lib/common/http_exchange.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace ferry {

std::optional<std::chrono::seconds> RetryAfterSeconds(const httplib::Response& answer) {
  const std::string value = answer.get_header_value("Retry-After");
  uint64_t seconds = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (value.empty() || error != std::errc() || end != value.data() + value.size()) {
    return std::nullopt;
  }
  constexpr uint64_t kDay = 24 * 60 * 60;  // callers cap it lower; this avoids overflow
  return std::chrono::seconds(std::min(seconds, kDay));
}

std::string DescribeTransportError(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection:
      return "could not connect";
    case httplib::Error::ConnectionTimeout:
      return "timed out connecting";
    case httplib::Error::Read:
      return "the connection broke or went silent";
    case httplib::Error::Write:
      return "the connection broke while sending";
    case httplib::Error::SSLConnection:
      return "the TLS handshake failed";
    case httplib::Error::Canceled:
      return "cancelled";
    default:
      return "request failed: " + httplib::to_string(error);
  }
}

}  // namespace ferry
