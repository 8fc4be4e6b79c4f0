#include "lib/fetch/bounded_http_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "lib/common/file.h"

namespace ferry::fetch {
namespace {

using Clock = std::chrono::steady_clock;

// The numeric address and port of a socket's peer (or of its own end).
void SocketAddress(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  auto* raw = reinterpret_cast<sockaddr*>(&address);
  const int got = peer ? ::getpeername(fd, raw, &length) : ::getsockname(fd, raw, &length);
  char host[NI_MAXHOST] = "";
  char service[NI_MAXSERV] = "0";
  if (got != 0 || ::getnameinfo(raw, length, host, sizeof host, service, sizeof service,
                                NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    ip.clear();
    port = 0;
    return;
  }
  ip = host;
  port = std::atoi(service);
}

// Best effort, never blocking: the connection is about to be closed anyway.
void SendFinalAnswer(int fd, std::string_view status_line) {
  const std::string answer =
      "HTTP/1.1 " + std::string(status_line) + "\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
  [[maybe_unused]] const ssize_t sent =
      ::send(fd, answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

// A request's header ends at its first empty line, which httplib recognises
// as "\r\n" after a line ending in '\n' (or as the very first line).
bool HeaderComplete(std::string_view pending) {
  return pending.starts_with("\r\n") || pending.find("\n\r\n") != std::string_view::npos;
}

int MillisecondsUntil(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1000));
}

// Runs each task at once on the caller's thread: httplib's accept loop, whose
// only task per connection is to hand it to the engine.
class InlineQueue final : public httplib::TaskQueue {
 public:
  explicit InlineQueue(std::function<void()> on_shutdown) : on_shutdown_(std::move(on_shutdown)) {}
  void enqueue(std::function<void()> task) override { task(); }
  void shutdown() override { on_shutdown_(); }

 private:
  std::function<void()> on_shutdown_;
};

}  // namespace

// The event loop that holds connections between requests, the workers that
// answer complete requests, and the counts behind the connection limits.
// Every open connection is in exactly one place: the loop's table, the inbox
// (handed to the loop, not yet in its table), the ready queue, or a worker.
class BoundedHttpServer::Engine {
 public:
  using ProcessRequest = std::function<bool(httplib::Stream&, bool close, bool& closed)>;

  static Result<std::unique_ptr<Engine>> Start(const ClientLimits& limits,
                                               std::shared_ptr<spdlog::logger> log,
                                               ProcessRequest process) {
    UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
    UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    UniqueFd stop(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = wake.get();
    if (!epoll.valid() || !wake.valid() || !stop.valid() ||
        ::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, wake.get(), &event) != 0) {
      return MakeError(ErrorCode::kUnavailable,
                       std::string("cannot set up the server's event loop: ") +
                           std::strerror(errno) + "; raise the limit on open files");
    }
    return std::make_unique<Engine>(limits, std::move(log), std::move(process), std::move(epoll),
                                    std::move(wake), std::move(stop));
  }

  Engine(const ClientLimits& limits, std::shared_ptr<spdlog::logger> log, ProcessRequest process,
         UniqueFd epoll, UniqueFd wake, UniqueFd stop)
      : limits_(limits),
        log_(std::move(log)),
        process_(std::move(process)),
        epoll_(std::move(epoll)),
        wake_(std::move(wake)),
        stop_(std::move(stop)) {
    loop_ = std::thread([this] { RunLoop(); });
    for (int i = 0; i < std::max(1, limits_.worker_threads); ++i) {
      workers_.emplace_back([this] { RunWorker(); });
    }
  }

  ~Engine() { Shutdown(); }

  // Takes ownership of a connection just accepted.
  void Adopt(int fd) {
    UniqueFd socket(fd);
    std::string ip;
    int port = 0;
    SocketAddress(fd, /*peer=*/true, ip, port);
    if (stopping_) return;
    if (const char* refusal = Admit(ip)) {
      SendFinalAnswer(fd, "503 Service Unavailable\r\nRetry-After: 1");
      if (log_) log_->warn("{} refused: {}", ip, refusal);
      return;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    auto connection = std::make_unique<Connection>(*this, std::move(socket), ip, port);
    SocketAddress(fd, /*peer=*/false, connection->local_ip, connection->local_port);
    HandToLoop(std::move(connection));
  }

  void Shutdown() {
    if (stopping_.exchange(true)) return;
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t written = ::write(stop_.get(), &one, sizeof one);
    written = ::write(wake_.get(), &one, sizeof one);
    {
      // A worker between its check of stopping_ and its wait must not miss this.
      std::lock_guard lock(queues_mutex_);
    }
    ready_changed_.notify_all();
    loop_.join();
    for (std::thread& worker : workers_) worker.join();
    // Connections still queued close here, while the counts they release exist.
    std::lock_guard lock(queues_mutex_);
    inbox_.clear();
    ready_.clear();
  }

 private:
  struct Connection {
    Connection(Engine& engine, UniqueFd socket, std::string ip, int port)
        : engine(engine), fd(std::move(socket)), peer_ip(std::move(ip)), peer_port(port) {
      waiting_since = Clock::now();
    }
    ~Connection() {
      if (fd.valid()) ::shutdown(fd.get(), SHUT_RDWR);
      fd.Reset();
      engine.Release(peer_ip);
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    std::string_view pending() const { return std::string_view(buffer).substr(consumed); }
    // When the loop gives up on the request it waits for: soon when nothing
    // of it came yet, at the header deadline once something has.
    Clock::time_point deadline(const ClientLimits& limits) const {
      const auto header = waiting_since + limits.header_timeout;
      return pending().empty() ? std::min(header, waiting_since + limits.idle_timeout) : header;
    }

    Engine& engine;
    UniqueFd fd;
    const std::string peer_ip;
    const int peer_port;
    std::string local_ip;
    int local_port = 0;
    std::string buffer;  // received bytes; those before `consumed` were handled
    size_t consumed = 0;
    Clock::time_point waiting_since;  // when the server began to wait for this request
    int requests = 0;                 // answered on this connection
  };

  // httplib reads the request through this, and writes the answer through it.
  // Reads come from what the loop buffered; only what lies beyond (a body,
  // which a GET does not have) waits on the socket, until the request's
  // header deadline. Writes wait at most send_timeout for room and fail a
  // client that drains too slowly. Both give up at once when the server stops.
  class Stream final : public httplib::Stream {
   public:
    Stream(Connection& connection, const ClientLimits& limits, int stop_fd)
        : connection_(connection),
          limits_(limits),
          stop_fd_(stop_fd),
          read_deadline_(connection.waiting_since + limits.header_timeout) {}

    bool too_slow() const { return too_slow_; }

    bool is_readable() const override {
      return !connection_.pending().empty() || WaitFor(POLLIN, read_deadline_);
    }
    bool is_writable() const override {
      return WaitFor(POLLOUT, Clock::now() + limits_.send_timeout);
    }

    ssize_t read(char* data, size_t size) override {
      const std::string_view pending = connection_.pending();
      if (!pending.empty()) {
        const size_t n = std::min(size, pending.size());
        std::memcpy(data, pending.data(), n);
        connection_.consumed += n;
        return static_cast<ssize_t>(n);
      }
      while (WaitFor(POLLIN, read_deadline_)) {
        const ssize_t n = ::recv(connection_.fd.get(), data, size, MSG_DONTWAIT);
        if (n >= 0 || (errno != EAGAIN && errno != EINTR)) return n;
      }
      return -1;
    }

    ssize_t write(const char* data, size_t size) override {
      size_t done = 0;
      while (done < size) {
        if (!WaitFor(POLLOUT, Clock::now() + limits_.send_timeout)) return -1;
        const ssize_t n =
            ::send(connection_.fd.get(), data + done, size - done, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EAGAIN || errno == EINTR) continue;
          return -1;
        }
        done += static_cast<size_t>(n);
        if (!KeepsPace(static_cast<uint64_t>(n))) return -1;
      }
      return static_cast<ssize_t>(size);
    }

    void get_remote_ip_and_port(std::string& ip, int& port) const override {
      ip = connection_.peer_ip;
      port = connection_.peer_port;
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
      ip = connection_.local_ip;
      port = connection_.local_port;
    }
    socket_t socket() const override { return connection_.fd.get(); }

   private:
    // Waits until the socket is ready for `events`, the deadline passes, or
    // the server stops; true only in the first case.
    bool WaitFor(short events, Clock::time_point deadline) const {
      while (true) {
        pollfd fds[2] = {{connection_.fd.get(), events, 0}, {stop_fd_, POLLIN, 0}};
        const int timeout = MillisecondsUntil(deadline);
        const int n = ::poll(fds, 2, timeout);
        if (n < 0 && errno != EINTR) return false;
        if (fds[1].revents != 0) return false;
        if (n > 0) return true;  // ready, or an error the next call reports
        if (n == 0 && Clock::now() >= deadline) {
          if (events == POLLOUT) too_slow_ = true;
          return false;
        }
      }
    }

    // Counts sent bytes in windows of send_rate_window; a window that ends
    // below min_send_rate fails the answer.
    bool KeepsPace(uint64_t sent) {
      if (limits_.min_send_rate == 0) return true;
      const Clock::time_point now = Clock::now();
      if (window_start_ == Clock::time_point()) window_start_ = now;
      window_bytes_ += sent;
      const auto elapsed = now - window_start_;
      if (elapsed < limits_.send_rate_window) return true;
      const double seconds = std::chrono::duration<double>(elapsed).count();
      if (static_cast<double>(window_bytes_) <
          static_cast<double>(limits_.min_send_rate) * seconds) {
        too_slow_ = true;
        return false;
      }
      window_start_ = now;
      window_bytes_ = 0;
      return true;
    }

    Connection& connection_;
    const ClientLimits& limits_;
    const int stop_fd_;
    const Clock::time_point read_deadline_;
    mutable bool too_slow_ = false;
    Clock::time_point window_start_{};
    uint64_t window_bytes_ = 0;
  };

  // Counts a new connection from `ip` in, or says why it may not open.
  const char* Admit(const std::string& ip) {
    std::lock_guard lock(counts_mutex_);
    if (open_ >= limits_.max_connections) return "the server holds its maximum of connections";
    int& from_client = per_client_[ip];
    if (from_client >= limits_.max_connections_per_client) {
      return "its address holds the maximum of connections per client";
    }
    ++open_;
    ++from_client;
    return nullptr;
  }

  void Release(const std::string& ip) {
    std::lock_guard lock(counts_mutex_);
    --open_;
    if (--per_client_[ip] == 0) per_client_.erase(ip);
  }

  void HandToLoop(std::unique_ptr<Connection> connection) {
    {
      std::lock_guard lock(queues_mutex_);
      if (stopping_loop_) return;  // closes it
      inbox_.push_back(std::move(connection));
    }
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = ::write(wake_.get(), &one, sizeof one);
  }

  void HandToWorker(std::unique_ptr<Connection> connection) {
    {
      std::lock_guard lock(queues_mutex_);
      ready_.push_back(std::move(connection));
    }
    ready_changed_.notify_one();
  }

  void RunLoop() {
    std::unordered_map<int, std::unique_ptr<Connection>> waiting;
    std::vector<epoll_event> events(64);
    while (!stopping_) {
      Clock::time_point next = Clock::now() + std::chrono::seconds(1);
      for (const auto& [fd, connection] : waiting) {
        next = std::min(next, connection->deadline(limits_));
      }
      const int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()),
                                 MillisecondsUntil(next));
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == wake_.get()) {
          uint64_t count = 0;
          [[maybe_unused]] const ssize_t read = ::read(wake_.get(), &count, sizeof count);
          continue;
        }
        auto found = waiting.find(fd);
        if (found == waiting.end()) continue;
        if (ReadRequest(*found->second)) continue;  // still waiting for more
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
        std::unique_ptr<Connection> connection = std::move(found->second);
        waiting.erase(found);
        if (HeaderComplete(connection->pending())) HandToWorker(std::move(connection));
      }

      std::deque<std::unique_ptr<Connection>> arrived;
      {
        std::lock_guard lock(queues_mutex_);
        arrived.swap(inbox_);
      }
      for (std::unique_ptr<Connection>& connection : arrived) {
        // A client that sent its next request along with the last one.
        if (HeaderComplete(connection->pending())) {
          HandToWorker(std::move(connection));
          continue;
        }
        const int fd = connection->fd.get();
        epoll_event event{};
        event.events = EPOLLIN | EPOLLRDHUP;
        event.data.fd = fd;
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) continue;
        waiting.emplace(fd, std::move(connection));
      }

      const Clock::time_point now = Clock::now();
      for (auto it = waiting.begin(); it != waiting.end();) {
        Connection& connection = *it->second;
        if (now < connection.deadline(limits_)) {
          ++it;
          continue;
        }
        if (!connection.pending().empty()) {
          SendFinalAnswer(connection.fd.get(), "408 Request Timeout");
          if (log_) {
            log_->warn("{} closed: its request header was not complete within {} ms",
                       connection.peer_ip, limits_.header_timeout.count());
          }
        }
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->first, nullptr);
        it = waiting.erase(it);
      }
    }
    std::lock_guard lock(queues_mutex_);
    stopping_loop_ = true;
    // `waiting` closes its connections on the way out.
  }

  // Reads what the client sent; false once the connection should leave the
  // loop: its header is complete, it closed, or it sent too much header.
  bool ReadRequest(Connection& connection) {
    char piece[16 << 10];
    const ssize_t n = ::recv(connection.fd.get(), piece, sizeof piece, MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    if (n == 0) return false;
    if (connection.consumed > 0) {
      connection.buffer.erase(0, connection.consumed);
      connection.consumed = 0;
    }
    connection.buffer.append(piece, static_cast<size_t>(n));
    if (HeaderComplete(connection.pending())) return false;
    if (connection.pending().size() > limits_.max_header_bytes) {
      SendFinalAnswer(connection.fd.get(), "431 Request Header Fields Too Large");
      if (log_) {
        log_->warn("{} closed: its request header is larger than {} bytes", connection.peer_ip,
                   limits_.max_header_bytes);
      }
      return false;
    }
    return true;
  }

  void RunWorker() {
    while (true) {
      std::unique_ptr<Connection> connection;
      {
        std::unique_lock lock(queues_mutex_);
        ready_changed_.wait(lock, [&] { return !ready_.empty() || stopping_; });
        if (stopping_) return;  // what is still queued closes unanswered
        connection = std::move(ready_.front());
        ready_.pop_front();
      }
      if (Answer(*connection)) HandToLoop(std::move(connection));
    }
  }

  // Answers one request; true when the connection may carry another.
  bool Answer(Connection& connection) {
    const bool close = ++connection.requests >= limits_.max_requests_per_connection || stopping_;
    bool closed_by_client = false;
    Stream stream(connection, limits_, stop_.get());
    const bool answered = process_(stream, close, closed_by_client);
    if (stream.too_slow() && log_) {
      log_->warn("{} cut: it took the answer too slowly (send timeout {} ms, at least {} bytes/s)",
                 connection.peer_ip, limits_.send_timeout.count(), limits_.min_send_rate);
    }
    if (!answered || close || closed_by_client) return false;
    connection.buffer.erase(0, connection.consumed);
    connection.consumed = 0;
    connection.waiting_since = Clock::now();
    return true;
  }

  const ClientLimits limits_;
  const std::shared_ptr<spdlog::logger> log_;
  const ProcessRequest process_;
  UniqueFd epoll_;
  UniqueFd wake_;  // tells the loop that the inbox changed
  UniqueFd stop_;  // readable once the server stops; never drained

  std::atomic<bool> stopping_ = false;

  std::mutex counts_mutex_;
  int open_ = 0;                                     // guarded by counts_mutex_
  std::unordered_map<std::string, int> per_client_;  // guarded by counts_mutex_

  std::mutex queues_mutex_;
  std::condition_variable ready_changed_;
  std::deque<std::unique_ptr<Connection>> inbox_;  // guarded by queues_mutex_
  std::deque<std::unique_ptr<Connection>> ready_;  // guarded by queues_mutex_
  bool stopping_loop_ = false;                     // guarded by queues_mutex_

  std::thread loop_;
  std::vector<std::thread> workers_;
};

Result<std::unique_ptr<BoundedHttpServer>> BoundedHttpServer::Create(
    const ClientLimits& limits, std::shared_ptr<spdlog::logger> log) {
  auto server = std::make_unique<BoundedHttpServer>(StartOnly());
  Result<std::unique_ptr<Engine>> engine =
      Engine::Start(limits, std::move(log),
                    [raw = server.get()](httplib::Stream& stream, bool close, bool& closed) {
                      return raw->process_request(stream, close, closed, nullptr);
                    });
  if (!engine) return engine.error();
  server->engine_ = std::move(*engine);
  // httplib's listen loop asks for its queue once, owns it, and shuts it down
  // when it ends, which is when the engine must close every connection.
  server->new_task_queue = [raw = server.get()]() -> httplib::TaskQueue* {
    return std::make_unique<InlineQueue>([raw] { raw->engine_->Shutdown(); }).release();
  };
  return server;
}

BoundedHttpServer::BoundedHttpServer(StartOnly) {}

// The engine's threads answer through this server, so they end first.
BoundedHttpServer::~BoundedHttpServer() { engine_.reset(); }

void BoundedHttpServer::RaiseListenBacklog() {
  // Linux raises a listening socket's backlog in place.
  ::listen(svr_sock_, SOMAXCONN);
}

bool BoundedHttpServer::process_and_close_socket(socket_t sock) {
  engine_->Adopt(sock);
  return true;
}

}  // namespace ferry::fetch
