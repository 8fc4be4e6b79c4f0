#include "tests/lib/kube/scripted_http_server.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace ferry::kube::testing {

ScriptedHttpServer::ScriptedHttpServer(std::chrono::seconds keep_alive_timeout) {
  server_.set_keep_alive_timeout(keep_alive_timeout.count());
  const auto handler = [this](const httplib::Request& request, httplib::Response& response) {
    Answer(request, response);
  };
  server_.Get(".*", handler);
  server_.Post(".*", handler);
  server_.Put(".*", handler);
  server_.Patch(".*", handler);
  server_.Delete(".*", handler);
  port_ = server_.bind_to_any_port("127.0.0.1");
  if (port_ < 0) throw std::runtime_error("scripted server could not bind to 127.0.0.1");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  // stop() is lost if it comes before the loop runs.
  while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

ScriptedHttpServer::~ScriptedHttpServer() {
  stopping_ = true;
  server_.stop();
  thread_.join();
}

void ScriptedHttpServer::Script(std::vector<ScriptedAnswer> answers) {
  std::lock_guard lock(mutex_);
  script_.assign(std::make_move_iterator(answers.begin()), std::make_move_iterator(answers.end()));
}

std::string ScriptedHttpServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::vector<RecordedRequest> ScriptedHttpServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void ScriptedHttpServer::Answer(const httplib::Request& request, httplib::Response& response) {
  ScriptedAnswer answer;
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(RecordedRequest{request.method, request.path, request.target,
                                        request.params, request.headers, request.body});
    if (script_.empty()) {
      response.status = 500;
      response.set_content("no answer scripted", "text/plain");
      return;
    }
    answer = script_.front();
    if (script_.size() > 1) script_.pop_front();
  }
  response.status = answer.status;
  for (const auto& [name, value] : answer.headers) response.set_header(name, value);
  if (answer.chunks.empty()) {
    response.set_content(answer.body, "application/json");
    return;
  }
  // The provider is called again and again until it calls done() or fails;
  // `next` is how far through the chunks this answer is.
  auto next = std::make_shared<size_t>(0);
  response.set_chunked_content_provider(
      "application/json", [this, answer, next](size_t, httplib::DataSink& sink) {
        if (*next < answer.chunks.size()) {
          if (*next > 0) std::this_thread::sleep_for(answer.pause);
          const std::string& chunk = answer.chunks[(*next)++];
          return sink.write(chunk.data(), chunk.size());
        }
        if (answer.break_off) return false;  // the server closes without the last chunk
        if (!answer.hold_open) {
          sink.done();
          return true;
        }
        if (stopping_) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return true;
      });
}

std::string WatchLine(const std::string& type, const std::string& name,
                      const std::string& resource_version) {
  nlohmann::json object = {{"metadata", {{"resourceVersion", resource_version}}}};
  if (!name.empty()) object["metadata"]["name"] = name;
  return nlohmann::json{{"type", type}, {"object", object}}.dump() + "\n";
}

namespace {
nlohmann::json StatusObject(int code, const std::string& reason, const std::string& message) {
  return {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
          {"code", code},     {"reason", reason},   {"message", message}};
}
}  // namespace

std::string StatusBody(int code, const std::string& reason, const std::string& message) {
  return StatusObject(code, reason, message).dump();
}

std::string ErrorLine(int code, const std::string& reason, const std::string& message) {
  return nlohmann::json{{"type", "ERROR"}, {"object", StatusObject(code, reason, message)}}.dump() +
         "\n";
}

}  // namespace ferry::kube::testing
