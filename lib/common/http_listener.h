// Runs an httplib::Server on host:port from a thread of its own, for every
// server Ferry's programs embed (the repository server, the metrics and health
// endpoint). Two things about httplib 0.11.4 are handled here once:
//  - it binds with SO_REUSEPORT, with which a second server on a taken port
//    silently shares its traffic; only SO_REUSEADDR is set instead (a restart
//    still works while old connections linger in TIME_WAIT), so a taken port
//    is refused;
//  - its stop() does nothing until the listening loop runs, so starting waits
//    for the loop, and a Stop that comes early is never lost.
#pragma once

#include <future>
#include <memory>
#include <string>
#include <thread>

#include "lib/common/listen_address.h"
#include "lib/common/result.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace ferry {

class HttpListener {
 public:
  // Binds `server`, whose handlers are already set, and serves it. Port 0
  // picks a free port. A refusal (taken port, foreign address) is kUnavailable
  // naming the address.
  static Result<std::unique_ptr<HttpListener>> Start(std::unique_ptr<httplib::Server> server,
                                                     const ListenAddress& address);
  ~HttpListener();  // stops and joins
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // The port bound, which differs from the one asked for when that was 0.
  int port() const { return port_; }
  // Stops listening and waits for the requests under way to end. Safe from
  // any thread, more than once.
  void Stop();
  // Blocks until the server has stopped.
  void Wait() { stopped_.wait(); }

 private:
  struct StartOnly {
    explicit StartOnly() = default;
  };

 public:
  HttpListener(StartOnly, std::unique_ptr<httplib::Server> server, int port);

 private:
  std::unique_ptr<httplib::Server> server_;
  const int port_;
  std::shared_future<void> stopped_;  // ready once the listening loop returned
  std::thread thread_;                // runs the listening loop
};

}  // namespace ferry
