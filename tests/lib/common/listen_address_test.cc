// The HOST:PORT forms every Ferry server accepts, and how they are shown.
// (Malformed addresses are refused through HealthServer::Start, whose tests
// check the messages.)
#include "lib/common/listen_address.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

TEST(ListenAddressTest, ReadsTheAcceptedForms) {
  struct Case {
    std::string text, host;
    int port;
    std::string shown;
  };
  for (const Case& c :
       {Case{"127.0.0.1:9090", "127.0.0.1", 9090, "127.0.0.1:9090"},
        Case{":8080", "0.0.0.0", 8080, "0.0.0.0:8080"}, Case{"[::1]:0", "::1", 0, "[::1]:0"},
        Case{"[::]:65535", "::", 65535, "[::]:65535"},
        Case{"localhost:8443", "localhost", 8443, "localhost:8443"},
        Case{"metrics.ferry-system.svc:9090", "metrics.ferry-system.svc", 9090,
             "metrics.ferry-system.svc:9090"}}) {
    Result<ListenAddress> address = ParseListenAddress(c.text);
    ASSERT_TRUE(address.ok()) << c.text << ": " << address.error().message;
    EXPECT_EQ(address->host, c.host) << c.text;
    EXPECT_EQ(address->port, c.port) << c.text;
    EXPECT_EQ(address->ToString(), c.shown) << c.text;
  }
}

}  // namespace
}  // namespace ferry
