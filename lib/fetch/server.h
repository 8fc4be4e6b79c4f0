// A read-only HTTP server for a repository folder, what `ferryctl serve` runs
// for clusters without object storage. It answers GET and HEAD for regular
// files under the root: the whole file (200), or one byte range (206 with
// Content-Range; 416 when the range lies past the end; a request for several
// ranges gets the whole file, as HTTP allows). A name that is missing or not a
// file gets 404 (folders are never listed); a name that is not plain or leads
// outside the root (.., a symlink pointing out) gets 403. Content-Length is
// always set, and files are streamed from disk, never held whole in memory.
// Each request becomes one access-log record.
//
// Slow or hostile clients cannot stop it answering the others: a connection
// waiting for its request holds no thread, and what each client may hold, and
// for how long, is bounded by ClientLimits (see bounded_http_server.h).
#pragma once

#include <spdlog/logger.h>

#include <filesystem>
#include <memory>
#include <string>

#include "lib/common/http_listener.h"
#include "lib/common/result.h"
#include "lib/fetch/client_limits.h"

namespace ferry::fetch {

class RepositoryServer {
 public:
  // Listens on host:port (port 0 picks a free one) and serves from its own
  // threads until Stop. Access records, and the connections refused or cut
  // by `limits`, go to `log` unless it is null.
  static Result<std::unique_ptr<RepositoryServer>> Start(const std::filesystem::path& root,
                                                         const std::string& host, int port,
                                                         std::shared_ptr<spdlog::logger> log,
                                                         const ClientLimits& limits = {});
  ~RepositoryServer();  // calls Stop()
  RepositoryServer(const RepositoryServer&) = delete;
  RepositoryServer& operator=(const RepositoryServer&) = delete;

  int port() const { return listener_->port(); }
  // Stops listening, closes every connection (an answer under way is cut;
  // clients resume it) and joins the server's threads. Safe to call from any
  // thread, more than once.
  void Stop();
  // Blocks until the server has stopped (for the CLI, whose signal handling
  // calls Stop).
  void Wait();

 private:
  struct StartOnly {
    explicit StartOnly() = default;
  };

 public:
  RepositoryServer(StartOnly, std::unique_ptr<HttpListener> listener);

 private:
  std::unique_ptr<HttpListener> listener_;
};

}  // namespace ferry::fetch
