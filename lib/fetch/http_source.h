// A repository served over HTTP or HTTPS ("https://host:port/base"). Requests
// go through a small pool of keep-alive connections, so that the many chunk
// objects of a pull do not each pay for a TCP and TLS handshake; a connection
// whose exchange did not end cleanly is closed, never reused. Every exchange is
// watched against the low-speed limit (low_speed.h), so a server that trickles
// bytes, in its headers or its body, fails the attempt instead of holding it.
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "lib/fetch/low_speed.h"
#include "lib/fetch/partial_file.h"
#include "lib/fetch/rate_limiter.h"
#include "lib/fetch/retry.h"
#include "lib/fetch/source.h"

namespace httplib {
class Client;
struct Response;
}  // namespace httplib

namespace ferry::fetch {

class HttpSource final : public Source {
 public:
  // Checks the URL's form and the CA bundle's presence; contacts nothing.
  static Result<std::unique_ptr<Source>> Open(std::string_view url, const FetchOptions& options);

  HttpSource(std::string origin, std::string base_path, FetchOptions options);
  ~HttpSource() override;

  std::string Describe() const override { return origin_ + base_path_; }
  Result<std::string> ReadSmall(std::string_view relative_path, uint64_t max_bytes) override;
  Status FetchToFile(std::string_view relative_path, const std::filesystem::path& destination,
                     std::optional<uint64_t> expected_size, Progress* progress) override;

 private:
  // One GET of `target`, from `range_start` on when given. Answers 200, 206
  // and 416 are shown to `on_answer`; the body of a 200 or 206 goes to
  // `on_body` piece by piece, through the bandwidth cap. Either callback ends
  // the exchange by returning an error, which counts as transient when coded
  // kUnavailable. Any other answer ends it at its headers and is judged by its
  // status: 404 is kNotFound, 408, 429 and 5xx are transient.
  Attempt Get(const std::string& target, std::optional<uint64_t> range_start,
              const std::function<Status(const httplib::Response&)>& on_answer,
              const std::function<Status(std::string_view)>& on_body);
  Attempt FetchAttempt(const std::string& target, PartialFile& file, Progress* progress);

  struct PooledClient {
    std::unique_ptr<httplib::Client> client;
    std::shared_ptr<LowSpeedWatchdog::Socket> socket;  // the client's, for the watchdog
  };
  PooledClient TakeClient();
  void ReturnClient(PooledClient client);

  const std::string origin_;     // "https://host:port"
  const std::string base_path_;  // "" or "/base", without a trailing '/'
  const FetchOptions options_;
  RateLimiter limiter_;
  LowSpeedWatchdog watchdog_;
  std::mutex pool_mutex_;
  std::vector<PooledClient> idle_;  // guarded by pool_mutex_
};

}  // namespace ferry::fetch
