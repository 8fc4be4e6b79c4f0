#include "tests/lib/fetch/test_server.h"

#include <chrono>
#include <stdexcept>

namespace ferry::fetch::testing {

TestServer::TestServer() : server_(std::make_unique<httplib::Server>()), scheme_("http") {}

TestServer::TestServer(const std::filesystem::path& certificate, const std::filesystem::path& key)
    : server_(std::make_unique<httplib::SSLServer>(certificate.c_str(), key.c_str())),
      scheme_("https") {
  if (!server_->is_valid()) throw std::runtime_error("TLS server could not load its certificate");
}

TestServer::~TestServer() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

void TestServer::Start() {
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ < 0) throw std::runtime_error("test server could not bind to 127.0.0.1");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() is lost if it comes before the loop runs.
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

std::string TestServer::url() const { return scheme_ + "://127.0.0.1:" + std::to_string(port_); }

}  // namespace ferry::fetch::testing
