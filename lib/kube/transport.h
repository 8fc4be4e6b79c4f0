// HTTP exchanges with one API server, over TLS with the cluster's CA and our
// client certificate or bearer token. Finished exchanges leave their
// connection in a small keep-alive pool for the next request, so a busy
// controller does not pay a TLS handshake per call; a connection whose
// exchange failed is closed, never reused. Thread-safe.
//
// The transport reports what the server said (any HTTP status) or that it
// said nothing (kUnavailable). Deciding what a status means and whether to try
// again is the client's job (client.h), so that one policy covers every verb.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/common/result.h"
#include "lib/kube/config.h"
#include "lib/kube/token_source.h"

namespace httplib {
class ClientImpl;
struct Request;
}  // namespace httplib

namespace ferry::kube {

struct HttpRequest {
  std::string method;  // "GET", "POST", "PUT", "PATCH", "DELETE"
  std::string target;  // path and query: "/api/v1/namespaces/x/pods?limit=500"
  std::string body;
  std::string content_type;  // of the body; empty when there is none
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string content_type;
  std::optional<std::chrono::seconds> retry_after;  // the server's Retry-After, in seconds
};

struct TransportOptions {
  std::chrono::seconds connect_timeout{10};
  // How long a request may wait for the server to say anything. The API
  // server ends ordinary requests after 60 s itself.
  std::chrono::seconds request_timeout{70};
  std::string user_agent = "ferry";
  // Connections kept open between requests. Above the number of requests a
  // process sends at once, every extra request pays a TCP and TLS handshake
  // (and the API server's CPU with it), so this is sized for a controller's
  // workers times its parallel writers, not for one thread.
  size_t max_idle_connections = 64;
};

// Certificates and keys parsed once, shared by every connection.
struct TlsMaterial;

class Transport {
 public:
  // Parses the certificates and keys; contacts nothing.
  static Result<std::unique_ptr<Transport>> Create(const ClusterConfig& config,
                                                   TransportOptions options = {});
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  const std::string& server() const { return server_; }

  // One exchange; kUnavailable when no answer came (refused, reset, timed out).
  Result<HttpResponse> RoundTrip(const HttpRequest& request);

  // A long-lived exchange whose body arrives piece by piece (a watch). It has
  // a connection of its own, so that Cancel, from any thread, can cut it.
  class Stream {
   public:
    ~Stream();
    // Sends the request. `on_answer` sees the status first; a 200's body then
    // goes to `on_data` as it arrives, until the server ends it (ok), the
    // connection is silent for longer than `idle_timeout` or breaks
    // (kUnavailable), `on_data` returns false, or Cancel is called (ok).
    // Any other status is returned whole, its body read to the end.
    Result<HttpResponse> Run(const HttpRequest& request, std::chrono::seconds idle_timeout,
                             const std::function<bool(std::string_view)>& on_data);
    // Thread-safe; makes a running or later Run return promptly. httplib can
    // only cut a connection that is open: a Cancel that lands while Run is
    // still connecting takes effect when the answer's headers arrive (a watch
    // gets them at once) or, at worst, after the idle timeout.
    void Cancel();
    bool cancelled() const { return cancelled_; }

    explicit Stream(Transport& transport);

   private:
    Transport& transport_;
    std::atomic<bool> cancelled_{false};
    std::mutex client_mutex_;
    std::unique_ptr<httplib::ClientImpl> client_;  // guarded by client_mutex_ while set
  };
  std::unique_ptr<Stream> NewStream() { return std::make_unique<Stream>(*this); }

  // Use Create, which checks the configuration first.
  Transport(std::string server, std::shared_ptr<const TlsMaterial> tls,
            std::unique_ptr<TokenSource> token, TransportOptions options);

 private:
  Result<std::unique_ptr<httplib::ClientImpl>> NewClient(std::chrono::seconds read_timeout);
  std::unique_ptr<httplib::ClientImpl> TakeIdle();
  void ReturnIdle(std::unique_ptr<httplib::ClientImpl> client);
  // The request as httplib sends it: our headers and the current token.
  Result<httplib::Request> Prepare(const HttpRequest& request);

  const std::string server_;
  std::shared_ptr<const TlsMaterial> tls_;
  const std::unique_ptr<TokenSource> token_;
  const TransportOptions options_;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<httplib::ClientImpl>> idle_;  // guarded by pool_mutex_
};

}  // namespace ferry::kube
