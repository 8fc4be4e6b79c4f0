#include "lib/common/listen_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>

namespace ferry {
namespace {

// Letters, digits and hyphens in dot-separated labels, as DNS names are.
bool IsHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  size_t start = 0;
  while (start <= host.size()) {
    size_t end = host.find('.', start);
    if (end == std::string_view::npos) end = host.size();
    const std::string_view label = host.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    if (!std::all_of(label.begin(), label.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-';
        })) {
      return false;
    }
    start = end + 1;
  }
  return true;
}

bool LooksNumeric(std::string_view host) {
  return std::all_of(host.begin(), host.end(),
                     [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

}  // namespace

std::string ListenAddress::ToString() const {
  const std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return shown + ":" + std::to_string(port);
}

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  auto invalid = [text](std::string_view why) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "listen address \"" + std::string(text) + "\" " + std::string(why) +
                         "; expected HOST:PORT, [IPV6]:PORT or :PORT, as in 127.0.0.1:9090, "
                         "[::1]:9090 or :9090");
  };
  ListenAddress address;
  std::string_view port;
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return invalid("has no closing ]");
    address.host = std::string(text.substr(1, close - 1));
    if (close + 1 >= text.size() || text[close + 1] != ':') return invalid("has no :PORT after ]");
    port = text.substr(close + 2);
    in6_addr parsed{};
    if (::inet_pton(AF_INET6, address.host.c_str(), &parsed) != 1) {
      return invalid("has no IPv6 address between its brackets");
    }
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return invalid("has no port");
    const std::string_view host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return invalid("needs brackets around its IPv6 address");
    }
    // An empty host is the Go-style ":9090" that Kubernetes components take.
    // It means IPv4 only: an IPv6 wildcard fails where IPv6 is switched off,
    // which many pod networks do.
    address.host = host.empty() ? "0.0.0.0" : std::string(host);
    in_addr parsed{};
    if (host.empty()) {
    } else if (LooksNumeric(host)) {
      if (::inet_pton(AF_INET, address.host.c_str(), &parsed) != 1) {
        return invalid("has a host that is not an IPv4 address");
      }
    } else if (!IsHostName(host)) {
      return invalid("has a host that is neither an IP address nor a host name");
    }
  }
  // from_chars would take a sign or stop early; the port must be all digits.
  const bool digits =
      !port.empty() && port.size() <= 5 &&
      std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) return invalid("has no port number after its last :");
  std::from_chars(port.data(), port.data() + port.size(), address.port);
  if (address.port > 65535) return invalid("has a port above 65535");
  return address;
}

}  // namespace ferry
