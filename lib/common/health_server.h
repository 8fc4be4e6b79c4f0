// The HTTP endpoint that ferry-operator and ferry-agent open with
// --metrics-addr, for Prometheus and for the kubelet's probes:
//   GET /metrics  the registry, as text exposition format 0.0.4
//   GET /healthz  200 "ok" for as long as the process serves at all (liveness)
//   GET /readyz   200 "ok" when readiness() is ok, else 503 with its message
// and 404 for any other path. HEAD works wherever GET does.
//
// The server answers from its own threads from Start until the destructor,
// which stops listening and joins them. So the registry must outlive the
// server, and readiness() is called from those threads, possibly several at
// once, on every /readyz request: it must be thread-safe and quick. An empty
// readiness function means always ready.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "lib/common/http_listener.h"
#include "lib/common/listen_address.h"
#include "lib/common/metrics.h"
#include "lib/common/result.h"

namespace ferry {

class HealthServer {
 public:
  // Listens on `host_port` (see ParseListenAddress). A taken port is refused
  // with kUnavailable, naming the address, rather than shared.
  static Result<std::unique_ptr<HealthServer>> Start(const std::string& host_port,
                                                     const MetricsRegistry& registry,
                                                     std::function<Status()> readiness);
  ~HealthServer();
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  // The port bound, which differs from the one asked for when that was 0.
  int port() const { return listener_->port(); }

 private:
  struct StartOnly {
    explicit StartOnly() = default;
  };

 public:
  HealthServer(StartOnly, std::unique_ptr<HttpListener> listener);

 private:
  std::unique_ptr<HttpListener> listener_;
};

}  // namespace ferry
