// Plain sockets on 127.0.0.1 for tests that must misbehave below HTTP: a
// server that trickles its answer a byte at a time, clients that send their
// request a line at a time. Writes never raise SIGPIPE.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "lib/common/file.h"

namespace ferry::fetch::testing {

// Connects to 127.0.0.1:port; an invalid descriptor when that fails.
UniqueFd ConnectToLoopback(int port);

// Writes all of `data`; false when the peer is gone.
bool SendAll(int fd, std::string_view data);

// Reads until the peer closes the connection (or `timeout` passes without a
// byte), returning what came; `closed` tells whether the peer closed it.
std::string ReadUntilClosed(int fd, std::chrono::milliseconds timeout, bool* closed = nullptr);

// Reads a request header (through its empty line); nullopt if the peer
// closed first.
std::optional<std::string> ReadRequestHeader(int fd);

// Listens on a free port of 127.0.0.1 and runs `serve` on its own thread for
// each connection, until destroyed; `stopping` turns true then, and serve
// must return soon after.
class ScriptedTcpServer {
 public:
  using Serve = std::function<void(int fd, const std::atomic<bool>& stopping)>;
  explicit ScriptedTcpServer(Serve serve);
  ~ScriptedTcpServer();
  ScriptedTcpServer(const ScriptedTcpServer&) = delete;
  ScriptedTcpServer& operator=(const ScriptedTcpServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_; }

 private:
  const Serve serve_;
  UniqueFd listener_;
  int port_ = -1;
  std::atomic<bool> stopping_ = false;
  std::atomic<int> connections_ = 0;
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> handlers_;  // guarded by mutex_
};

// Sleeps for `duration` unless `stopping` turns true first; false then.
bool SleepUnless(const std::atomic<bool>& stopping, std::chrono::milliseconds duration);

}  // namespace ferry::fetch::testing
