// The verbs of the Kubernetes API over one Transport: get, list (with
// selectors and pagination), create, update (optimistic concurrency through
// metadata.resourceVersion), merge/JSON/strategic patches, server-side apply,
// delete with preconditions, and the status subresource.
//
// Failures come back as Errors whose code a caller can act on without reading
// text: kNotFound, kAlreadyExists, kConflict (re-read and try again; see
// RetryOnConflict), kExpired (410: a resourceVersion too old to serve),
// kInvalidArgument (the server refused the object), kPermissionDenied,
// kUnavailable (still failing after the retries below).
//
// Retries follow client-go: an answer that says "not processed, come back"
// (429, or 5xx with Retry-After) is retried for every verb; a 5xx without it or
// a broken connection only for verbs that are safe to repeat (GET, PUT, DELETE
// and apply, never POST or a plain PATCH). Waits grow exponentially with
// jitter and are never shorter than the server's Retry-After. Every request,
// retries included, first takes a token from a QPS/burst bucket, so one busy
// controller cannot flood the API server. Thread-safe.
#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "lib/common/result.h"
#include "lib/kube/backoff.h"
#include "lib/kube/config.h"
#include "lib/kube/object.h"
#include "lib/kube/object_writer.h"
#include "lib/kube/resource.h"
#include "lib/kube/transport.h"

namespace ferry::kube {

class ClientMetrics;
class TokenBucketLimiter;

struct ClientOptions {
  // Sustained requests per second (0 = unlimited) and how many may go at
  // once above that. A limit for the client's own good behaviour: the API
  // server protects itself with priority and fairness (429s, which are
  // retried). Programs expose these (ferry-operator --kube-qps/--kube-burst).
  double qps = 50;
  int burst = 100;
  int max_retries = 8;
  BackoffPolicy retry_backoff{.initial = std::chrono::milliseconds(100),
                              .max = std::chrono::milliseconds(10'000)};
  TransportOptions transport{};
  std::shared_ptr<spdlog::logger> log{};  // retries are logged at warn; may be null
  ClientMetrics* metrics = nullptr;       // may be null; must outlive the client
};

struct ListOptions {
  std::string label_selector;  // "app=web,tier!=db"
  std::string field_selector;  // "metadata.name=x", "spec.nodeName=n"
  int64_t limit = 0;           // page size; 0 = the server's choice (everything)
  std::string continue_token;
  std::string resource_version;  // "" = a consistent read; "0" = any cached state
};

struct ObjectList {
  std::vector<Json> items;  // each with apiVersion and kind filled in
  std::string resource_version;
  std::string continue_token;  // non-empty when more pages follow
};

struct ApplyOptions {
  std::string field_manager{};  // required by the API server
  bool force = false;           // take over fields that another manager owns
};

// Counts for metrics and for tests that check retries happened.
struct ClientStats {
  uint64_t requests = 0;  // attempts sent, retries included
  uint64_t retries = 0;
  uint64_t throttled_ms = 0;  // time spent waiting for the QPS bucket
};

// PatchType and DeleteOptions come from object_writer.h.
class Client : public ObjectWriter {
 public:
  static Result<std::unique_ptr<Client>> Create(const ClusterConfig& config,
                                                ClientOptions options = {});
  // Use Create.
  Client(std::unique_ptr<Transport> transport, ClientOptions options, std::string namespace_name);
  ~Client() override;

  // The namespace of the kubeconfig's context (or the pod's own).
  const std::string& default_namespace() const { return default_namespace_; }
  const std::string& server() const { return transport_->server(); }
  Transport& transport() { return *transport_; }

  Result<Json> Get(const ResourceType& type, std::string_view namespace_name, std::string_view name,
                   std::string_view subresource = "") override;
  // One page; follow continue_token for the next, or use ListAll.
  Result<ObjectList> List(const ResourceType& type, std::string_view namespace_name,
                          const ListOptions& options = {});
  // Every page, as one list whose resource_version is the first page's (the
  // snapshot all pages belong to).
  Result<ObjectList> ListAll(const ResourceType& type, std::string_view namespace_name,
                             ListOptions options = {});
  // Every page, each handed to `on_page` as it arrives (so a caller can keep
  // less than the whole list in memory); returns the snapshot's resourceVersion.
  Result<std::string> ListPages(const ResourceType& type, std::string_view namespace_name,
                                ListOptions options,
                                const std::function<void(ObjectList& page)>& on_page);
  Result<Json> Create(const ResourceType& type, const Json& object) override;
  // PUT; fails with kConflict when object's metadata.resourceVersion is stale.
  Result<Json> Update(const ResourceType& type, const Json& object) override;
  Result<Json> UpdateStatus(const ResourceType& type, const Json& object) override;
  Result<Json> Patch(const ResourceType& type, std::string_view namespace_name,
                     std::string_view name, PatchType patch_type, const Json& patch,
                     std::string_view subresource = "") override;
  // Server-side apply of `object` (which names itself), as field manager.
  Result<Json> Apply(const ResourceType& type, const Json& object, const ApplyOptions& options,
                     std::string_view subresource = "");
  Status Delete(const ResourceType& type, std::string_view namespace_name, std::string_view name,
                const DeleteOptions& options = {}) override;

  // Any path, for what the typed verbs do not cover ("/version", "/readyz").
  Result<HttpResponse> Raw(const HttpRequest& request, bool idempotent);

  ClientStats stats() const;

 private:
  // Sends with throttling and the retry rules above; returns the final answer.
  Result<HttpResponse> Send(const HttpRequest& request, bool idempotent);
  // Sends and turns a non-2xx answer into an Error; parses the body.
  Result<Json> Call(const HttpRequest& request, bool idempotent);

  std::unique_ptr<Transport> transport_;
  const ClientOptions options_;
  const std::string default_namespace_;
  std::unique_ptr<TokenBucketLimiter> throttle_;  // null when unlimited
  std::atomic<uint64_t> requests_{0}, retries_{0}, throttled_ms_{0};
};

// Re-runs `attempt` (which should read the object afresh, change it and write
// it) while it fails with kConflict, up to `max_attempts` times with a short
// backoff. The usual answer to losing an optimistic-concurrency race.
template <typename Attempt>
auto RetryOnConflict(Attempt&& attempt, int max_attempts = 10) -> decltype(attempt()) {
  Backoff backoff({.initial = std::chrono::milliseconds(10), .max = std::chrono::seconds(1)});
  for (int i = 1;; ++i) {
    auto result = attempt();
    if (result.ok() || result.error().code != ErrorCode::kConflict || i >= max_attempts) {
      return result;
    }
    std::this_thread::sleep_for(backoff.Next());
  }
}

}  // namespace ferry::kube
