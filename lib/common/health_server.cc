#include "lib/common/health_server.h"

#include <httplib.h>

#include <chrono>
#include <utility>

namespace ferry {
namespace {

constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";
constexpr char kTextContentType[] = "text/plain; charset=utf-8";

void Answer(httplib::Response& response, int status, const std::string& body,
            const char* content_type) {
  response.status = status;
  response.set_content(body, content_type);
}

}  // namespace

Result<std::unique_ptr<HealthServer>> HealthServer::Start(const std::string& host_port,
                                                          const MetricsRegistry& registry,
                                                          std::function<Status()> readiness) {
  Result<ListenAddress> address = ParseListenAddress(host_port);
  if (!address) return address.error();

  auto server = std::make_unique<httplib::Server>();
  const MetricsRegistry* metrics = &registry;
  server->Get("/metrics", [metrics](const httplib::Request&, httplib::Response& response) {
    Answer(response, 200, metrics->Render(), kMetricsContentType);
  });
  server->Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    Answer(response, 200, "ok", kTextContentType);
  });
  server->Get("/readyz", [readiness = std::move(readiness)](const httplib::Request&,
                                                            httplib::Response& response) {
    const Status ready = readiness ? readiness() : OkStatus();
    if (ready.ok()) return Answer(response, 200, "ok", kTextContentType);
    Answer(response, 503, ready.error().message, kTextContentType);
  });
  // Handlers match in the order added, so this takes only what the others left.
  server->Get(".*", [](const httplib::Request&, httplib::Response& response) {
    Answer(response, 404, "not found", kTextContentType);
  });
  // httplib's workers wait out a kept-alive connection's idle timeout before
  // they notice a stop, so one idle scraper would hold up shutdown by 5 s.
  // Keep-alive buys nothing here: Prometheus scrapes every 15 s or more, past
  // any idle timeout, and the kubelet closes probe connections itself. So one
  // request per connection, and a connection that sends none within a second
  // is dropped.
  server->set_keep_alive_max_count(1);
  server->set_keep_alive_timeout(1);
  // A taken port is refused, not shared: two agents on one node would each
  // answer half the scrapes.
  Result<std::unique_ptr<HttpListener>> listener = HttpListener::Start(std::move(server), *address);
  if (!listener) return listener.error();
  return std::make_unique<HealthServer>(StartOnly(), std::move(*listener));
}

HealthServer::HealthServer(StartOnly, std::unique_ptr<HttpListener> listener)
    : listener_(std::move(listener)) {}

HealthServer::~HealthServer() = default;

}  // namespace ferry
