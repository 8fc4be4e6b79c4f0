// A plain-HTTP server on 127.0.0.1 that answers every request with the next
// canned answer of a script and records what it was asked. It is not a fake
// Kubernetes API server: it knows nothing of objects, verbs or resource
// versions. It exists to test the client's side of the wire: how a watch
// splits a byte stream into events, what happens when the stream goes
// silent, and which answers the client retries.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ferry::kube::testing {

struct ScriptedAnswer {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent whole (Content-Length), unless `chunks` is set
  // When set, the body is sent with chunked transfer encoding, one HTTP chunk
  // per entry, `pause` apart.
  std::vector<std::string> chunks;
  std::chrono::milliseconds pause{0};
  // After the last chunk, keep the connection open and say nothing until the
  // server is destroyed (a peer that died without a FIN looks like this).
  bool hold_open = false;
  // After the last chunk, drop the connection without ending the body.
  bool break_off = false;
};

struct RecordedRequest {
  std::string method;
  std::string path;
  std::string target;      // path and query as sent, still percent-encoded
  httplib::Params params;  // the query, decoded
  httplib::Headers headers;
  std::string body;
};

class ScriptedHttpServer {
 public:
  // Serving at once, with an empty script (every answer 500). An idle
  // keep-alive connection is closed after `keep_alive_timeout`.
  explicit ScriptedHttpServer(std::chrono::seconds keep_alive_timeout = std::chrono::seconds(5));
  ~ScriptedHttpServer();
  ScriptedHttpServer(const ScriptedHttpServer&) = delete;
  ScriptedHttpServer& operator=(const ScriptedHttpServer&) = delete;

  // The answers to the next requests, in order; the last one repeats.
  void Script(std::vector<ScriptedAnswer> answers);
  // "http://127.0.0.1:PORT".
  std::string url() const;
  std::vector<RecordedRequest> requests() const;

 private:
  void Answer(const httplib::Request& request, httplib::Response& response);

  httplib::Server server_;
  int port_ = -1;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::deque<ScriptedAnswer> script_;      // guarded by mutex_
  std::vector<RecordedRequest> requests_;  // guarded by mutex_
};

// Serializes one watch event as the API server frames it: a JSON line.
std::string WatchLine(const std::string& type, const std::string& name,
                      const std::string& resource_version);

// The body of a refusal as the API server writes it: a Status object.
std::string StatusBody(int code, const std::string& reason, const std::string& message);
// A watch line of type ERROR carrying such a Status.
std::string ErrorLine(int code, const std::string& reason, const std::string& message);

}  // namespace ferry::kube::testing
