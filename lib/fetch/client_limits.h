// What one client of the repository server may hold, and for how long: the
// defence against clients that are slow by accident or on purpose (slowloris,
// slow readers) and against one address taking every connection. The
// defaults suit a cluster's repository: GET of files of up to a few hundred
// MB by up to hundreds of nodes; docs/fetch.md explains each one.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace ferry::fetch {

struct ClientLimits {
  // A request's header must be complete this long after the server began
  // waiting for it (the connection opened, or the last answer went out);
  // otherwise the client gets 408 and the connection is closed.
  std::chrono::milliseconds header_timeout{10000};
  // A connection that sends no byte of a request for this long is closed.
  std::chrono::milliseconds idle_timeout{5000};
  // An answer that the client does not drain at all for send_timeout, or at
  // fewer than min_send_rate bytes/s over a send_rate_window, is cut.
  std::chrono::milliseconds send_timeout{15000};
  uint64_t min_send_rate = 512;  // 0 disables the check
  std::chrono::milliseconds send_rate_window{60000};
  // Threads that answer requests whose header is complete; connections that
  // wait for a request take none.
  int worker_threads = 32;
  // Open connections in all and from one client address; a connection past
  // either limit gets 503 with Retry-After and is closed.
  int max_connections = 1024;
  int max_connections_per_client = 128;
  // A kept-alive connection is closed after this many answers.
  int max_requests_per_connection = 1000;
  // A request header larger than this gets 431.
  size_t max_header_bytes = 64 << 10;
};

}  // namespace ferry::fetch
