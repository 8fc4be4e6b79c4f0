// A reverse proxy for tests that stands between a Kubernetes client and the
// real kube-apiserver and fails some requests on purpose, so a test can show
// that the client rides out 429/5xx storms and dropped connections without
// losing or duplicating work.
//
// Like `kubectl proxy`, it listens on plain HTTP on 127.0.0.1 and forwards
// each request over HTTPS to the apiserver, authenticating with a client
// certificate (the client's own Authorization header is not forwarded). A
// request that the policy faults is answered by the proxy itself and never
// reaches the apiserver, as an overloaded apiserver or a load balancer in
// front of it would answer. Watches (`?watch=true`) are relayed piece by
// piece as the apiserver sends them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ferry::testing {

struct ProxiedRequest {
  std::string method;
  std::string path;  // as the client sent it, with the query string
};

struct Fault {
  int status = 503;
  std::optional<int> retry_after_seconds;  // sent as Retry-After and in the Status details
  bool drop_connection = false;            // close the socket without an answer
};

// The proxy answers with `status` itself, as an overloaded apiserver would.
Fault Answer(int status, std::optional<int> retry_after_seconds = std::nullopt);
// The proxy closes the connection without an answer, as a failing load balancer would.
Fault Drop();

// Decides per request; nullopt forwards it untouched. Called concurrently
// from the proxy's threads, so it must be thread-safe. An empty policy
// forwards everything.
using FaultPolicy = std::function<std::optional<Fault>(const ProxiedRequest&)>;

// Faults the n-th, 2n-th, 3n-th... request it sees (counting from 1) and
// forwards the others. n must be at least 1.
FaultPolicy EveryNth(int n, Fault fault);

// Faults each request with `probability`, choosing the fault uniformly from
// `kinds`. The same seed gives the same sequence of decisions.
FaultPolicy RandomFaults(double probability, std::vector<Fault> kinds, uint64_t seed);

struct ProxyLogEntry {
  std::chrono::steady_clock::time_point at;  // when the request arrived
  std::string method;
  std::string path;
  int status = 0;  // what the client got; 0: no answer (dropped, or not answered yet)
  bool injected = false;
};

class FaultProxy {
 public:
  struct Upstream {
    std::string host;
    int port = 0;
    std::string ca_file, cert_file, key_file;
  };
  // The apiserver of a cluster that e2e/cluster/up started in `state_dir`:
  // the server of its kubeconfig, its CA and the admin client certificate.
  // Throws std::runtime_error when the kubeconfig cannot be read.
  static Upstream FromClusterState(const std::string& state_dir);

  // Starts serving on 127.0.0.1 at a free port. Throws std::runtime_error
  // when it cannot listen.
  FaultProxy(Upstream upstream, FaultPolicy policy);
  // Stops serving, ends relayed watches and waits for its threads.
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const;
  std::string url() const;  // "http://127.0.0.1:PORT"

  // Replaces the policy for requests that arrive from now on.
  void SetPolicy(FaultPolicy policy);
  // Every request so far, in the order they arrived.
  std::vector<ProxyLogEntry> Log() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry::testing
