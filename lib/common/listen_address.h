// A HOST:PORT to listen on, as command lines give it (--metrics-addr,
// ferryctl serve --listen), read one way for every server Ferry runs.
#pragma once

#include <string>
#include <string_view>

#include "lib/common/result.h"

namespace ferry {

// Where to listen, as the command line gives it.
struct ListenAddress {
  std::string host;  // an IPv4 address, an IPv6 address (without brackets) or a host name
  int port = 0;      // 0: any free port

  // "host:port", or "[host]:port" for IPv6, as ParseListenAddress reads it.
  std::string ToString() const;
};

// Reads "HOST:PORT", "[IPV6]:PORT" or ":PORT" (every IPv4 interface, 0.0.0.0).
// The port is decimal, 0 to 65535. Anything else is kInvalidArgument, with a
// message that quotes the text and shows the expected forms.
Result<ListenAddress> ParseListenAddress(std::string_view text);

}  // namespace ferry
