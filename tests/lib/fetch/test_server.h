// A scriptable cpp-httplib server on 127.0.0.1 for one test, serving from its
// own thread on a free port. What it answers is entirely up to the handlers the
// test installs on server() before Start(); that is how tests play a server
// that drops connections, ignores Range or keeps failing.
#pragma once

#include <httplib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>

namespace ferry::fetch::testing {

class TestServer {
 public:
  TestServer();  // plain HTTP
  // HTTPS with the given PEM certificate and key.
  TestServer(const std::filesystem::path& certificate, const std::filesystem::path& key);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  httplib::Server& server() { return *server_; }
  void Start();
  // "http://127.0.0.1:PORT" (or https), valid after Start.
  std::string url() const;

 private:
  std::unique_ptr<httplib::Server> server_;
  std::string scheme_;
  int port_ = -1;
  std::thread thread_;
};

}  // namespace ferry::fetch::testing
