#include "tests/support/fault_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <initializer_list>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>

namespace ferry::testing {
namespace {

// httplib serves each connection on one thread for as long as it stays open,
// idle keep-alive time and relayed watches included; more connections than
// threads wait their turn.
constexpr int kServerThreads = 32;
constexpr size_t kIdleClients = 8;
constexpr std::chrono::seconds kConnectTimeout(5);
// Longer than the apiserver's own limit (60 s) for a request that is not a watch.
constexpr std::chrono::seconds kRequestTimeout(90);
// A watch may stay quiet until its timeoutSeconds; the proxy's shutdown ends it sooner.
constexpr std::chrono::hours kWatchTimeout(1);

bool NameIn(const std::string& name, std::initializer_list<const char*> names) {
  for (const char* candidate : names) {
    if (::strcasecmp(name.c_str(), candidate) == 0) return true;
  }
  return false;
}

// Hop-by-hop headers belong to one connection, not to the request; the length
// and encoding are the business of each side's httplib. The REMOTE_/LOCAL_
// entries are httplib's, not the client's. The proxy authenticates with its
// own certificate, as `kubectl proxy` does.
bool ForwardedToUpstream(const std::string& name) {
  return !NameIn(name, {"Host", "Connection", "Keep-Alive", "Proxy-Connection",
                        "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
                        "Expect", "Content-Length", "Accept-Encoding", "Authorization",
                        "REMOTE_ADDR", "REMOTE_PORT", "LOCAL_ADDR", "LOCAL_PORT"});
}

bool RelayedToClient(const std::string& name) {
  return !NameIn(name,
                 {"Connection", "Keep-Alive", "Proxy-Connection", "Trailer", "Transfer-Encoding",
                  "Upgrade", "Content-Length", "Content-Encoding", "Content-Type"});
}

// The reason Kubernetes gives with each status code a fault may use; others
// have none ("Unknown").
std::string_view ReasonFor(int code) {
  switch (code) {
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return "";
  }
}

// A Kubernetes Status object, as the apiserver answers a failed request.
std::string StatusBody(int code, const std::string& message,
                       std::optional<int> retry_after_seconds) {
  nlohmann::json status = {
      {"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
      {"status", "Failure"}, {"message", message}, {"code", code}};
  if (const std::string_view reason = ReasonFor(code); !reason.empty()) status["reason"] = reason;
  if (retry_after_seconds) status["details"] = {{"retryAfterSeconds", *retry_after_seconds}};
  return status.dump();
}

void AnswerStatus(httplib::Response& response, int code, const std::string& message,
                  std::optional<int> retry_after_seconds = std::nullopt) {
  response.status = code;
  if (retry_after_seconds) response.set_header("Retry-After", std::to_string(*retry_after_seconds));
  response.set_content(StatusBody(code, message, retry_after_seconds), "application/json");
}

bool IsWatch(const httplib::Request& request) {
  const std::string watch = request.get_param_value("watch");
  return watch == "true" || watch == "1" || request.path.find("/watch/") != std::string::npos;
}

std::optional<std::pair<std::string, int>> Endpoint(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(address);
    ::inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
    return std::pair(std::string(text), ntohs(in.sin_port));
  }
  if (address.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address);
    ::inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
    return std::pair(std::string(text), ntohs(in6.sin6_port));
  }
  return std::nullopt;
}

// The descriptor of the accepted connection that `request` came on, or -1.
// httplib hands a handler no socket, so this finds it by its two ends among
// the process's descriptors. Only the thread serving the connection may ask:
// for it, the number cannot be closed and reused meanwhile.
int FindConnection(const httplib::Request& request) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", error)) {
    int fd = -1;
    try {
      fd = std::stoi(entry.path().filename().string());
    } catch (const std::exception&) {
      continue;
    }
    sockaddr_storage peer{}, local{};
    socklen_t peer_size = sizeof peer, local_size = sizeof local;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_size) != 0) {
      continue;
    }
    const auto peer_end = Endpoint(peer);
    const auto local_end = Endpoint(local);
    if (peer_end && local_end && peer_end->first == request.remote_addr &&
        peer_end->second == request.remote_port && local_end->second == request.local_port) {
      return fd;
    }
  }
  return -1;
}

// Which connection each of the server's threads serves, so that a fault can
// drop one and stopping can end idle keep-alive connections, on which httplib
// would otherwise wait out its keep-alive timeout (5 s) before it joins. Each
// connection is held by a duplicate descriptor of its own: httplib's number
// may be closed and reused by anyone once httplib is done with it, the
// duplicate only when its thread says so.
class Connections {
 public:
  Connections() = default;
  Connections(const Connections&) = delete;
  Connections& operator=(const Connections&) = delete;
  ~Connections() {
    for (const auto& [thread, held] : held_) ::close(held.fd);
  }

  // From a handler: the connection its thread serves (noting it the first
  // time), or -1 when it cannot be found.
  int Current(const httplib::Request& request) {
    const std::thread::id thread = std::this_thread::get_id();
    {
      std::lock_guard lock(mutex_);
      const auto held = held_.find(thread);
      if (held != held_.end() && held->second.remote_port == request.remote_port) {
        return held->second.fd;
      }
    }
    const int found = FindConnection(request);
    const int fd = found < 0 ? -1 : ::fcntl(found, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return -1;
    std::lock_guard lock(mutex_);
    if (stopping_) ::shutdown(fd, SHUT_RD);
    if (const auto old = held_.find(thread); old != held_.end()) ::close(old->second.fd);
    held_[thread] = {request.remote_port, fd};
    return fd;
  }

  // From a server thread that is done with its connection.
  void Done() {
    std::lock_guard lock(mutex_);
    if (const auto held = held_.find(std::this_thread::get_id()); held != held_.end()) {
      ::close(held->second.fd);
      held_.erase(held);
    }
  }

  // Ends reading on every connection, now and noted from now on: an answer
  // being written still goes out, then httplib sees the client gone.
  void Stop() {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (const auto& [thread, held] : held_) ::shutdown(held.fd, SHUT_RD);
  }

 private:
  struct Held {
    int remote_port = -1;
    int fd = -1;
  };
  std::mutex mutex_;
  bool stopping_ = false;
  std::map<std::thread::id, Held> held_;
};

// httplib's ThreadPool, except that it tells `connections` when a thread is
// done with a connection and stops them before it joins.
class Workers : public httplib::TaskQueue {
 public:
  Workers(int count, Connections& connections) : connections_(connections) {
    for (int i = 0; i < count; ++i) threads_.emplace_back([this] { Work(); });
  }
  ~Workers() override { shutdown(); }

  void enqueue(std::function<void()> job) override {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    changed_.notify_one();
  }

  // httplib calls it once its listening loop ended; the connections still
  // queued are served (httplib closes their sockets there) before it returns.
  void shutdown() override {
    connections_.Stop();
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();  // serves one connection until it closes
      connections_.Done();
    }
  }

  Connections& connections_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// The request as the apiserver gets it. The target goes as the client wrote
// it (the upstream client must not encode it again); the apiserver is asked
// for an unencoded body so that what the proxy relays needs no decoding.
httplib::Request UpstreamRequest(const httplib::Request& request) {
  httplib::Request upstream;
  upstream.method = request.method;
  upstream.path = request.target;
  upstream.body = request.body;
  for (const auto& [name, value] : request.headers) {
    if (ForwardedToUpstream(name)) upstream.headers.emplace(name, value);
  }
  upstream.headers.emplace("Accept-Encoding", "identity");
  return upstream;
}

void RelayHeaders(const httplib::Headers& from, httplib::Response& to) {
  for (const auto& [name, value] : from) {
    if (RelayedToClient(name)) to.headers.emplace(name, value);
  }
}

// One relayed watch. The upstream request runs on a thread of its own and
// hands each piece of the body over to the server thread that writes it to the
// client, so the client gets each event when the apiserver sends it.
class StreamRelay {
 public:
  struct Head {
    int status = 0;
    httplib::Headers headers;
  };
  enum class Next { kPiece, kEnd, kFailed };

  StreamRelay(std::unique_ptr<httplib::SSLClient> client, httplib::Request request)
      : client_(std::move(client)), request_(std::move(request)), thread_([this] { Run(); }) {}
  ~StreamRelay() {
    Cancel();
    thread_.join();
  }
  StreamRelay(const StreamRelay&) = delete;
  StreamRelay& operator=(const StreamRelay&) = delete;

  // Waits for the upstream status and headers; nullopt (and why in `error`)
  // when the request failed or was cancelled first.
  std::optional<Head> WaitForHead(std::string& error) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return have_head_ || finished_ || cancelled_; });
    if (have_head_ && !cancelled_) return head_;
    error = cancelled_ ? "the proxy is stopping" : error_;
    return std::nullopt;
  }

  // Waits for the next piece of the body, the end of it, or a failure.
  Next WaitForPiece(std::string& piece) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !pieces_.empty() || finished_ || cancelled_; });
    if (cancelled_) return Next::kFailed;
    if (!pieces_.empty()) {
      piece = std::move(pieces_.front());
      pieces_.pop_front();
      return Next::kPiece;
    }
    return succeeded_ ? Next::kEnd : Next::kFailed;
  }

  // Ends the upstream request (httplib's stop() shuts its socket down, which
  // wakes a read blocked on it) and any wait.
  void Cancel() {
    {
      std::lock_guard lock(mutex_);
      cancelled_ = true;
    }
    changed_.notify_all();
    client_->stop();
  }

 private:
  void Run() {
    request_.response_handler = [this](const httplib::Response& response) {
      std::lock_guard lock(mutex_);
      head_ = {response.status, response.headers};
      have_head_ = true;
      changed_.notify_all();
      return !cancelled_;
    };
    request_.content_receiver = [this](const char* data, size_t size, uint64_t, uint64_t) {
      std::lock_guard lock(mutex_);
      pieces_.emplace_back(data, size);
      changed_.notify_all();
      return !cancelled_;
    };
    httplib::Response response;
    httplib::Error error = httplib::Error::Success;
    const bool succeeded = client_->send(request_, response, error);
    std::lock_guard lock(mutex_);
    finished_ = true;
    succeeded_ = succeeded;
    if (!succeeded) error_ = httplib::to_string(error);
    changed_.notify_all();
  }

  const std::unique_ptr<httplib::SSLClient> client_;
  httplib::Request request_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool have_head_ = false;
  Head head_;
  std::deque<std::string> pieces_;
  bool finished_ = false;
  bool succeeded_ = false;
  bool cancelled_ = false;
  std::string error_;
  std::thread thread_;  // last, so that it starts when everything it uses exists
};

// httplib's server, with its listening socket at hand.
class ListeningServer : public httplib::Server {
 public:
  int listening_socket() const { return svr_sock_; }
};

}  // namespace

class FaultProxy::Impl {
 public:
  Impl(Upstream upstream, FaultPolicy policy)
      : upstream_(std::move(upstream)), policy_(std::move(policy)) {
    // httplib writes to sockets without MSG_NOSIGNAL: a client that hangs up
    // mid-answer must fail that write with EPIPE, not kill the test binary.
    std::signal(SIGPIPE, SIG_IGN);
    // httplib takes ownership of the queue it gets.
    server_.new_task_queue = [this] { return new Workers(kServerThreads, connections_); };
    const auto handle = [this](const httplib::Request& request, httplib::Response& response) {
      Handle(request, response);
    };
    server_.Get(".*", handle);  // HEAD too
    server_.Post(".*", handle);
    server_.Put(".*", handle);
    server_.Patch(".*", handle);
    server_.Delete(".*", handle);
    // httplib sets SO_REUSEPORT, with which a second server on the same port
    // silently shares its traffic; SO_REUSEADDR alone still allows a restart
    // while old connections linger in TIME_WAIT.
    server_.set_socket_options([](int socket) {
      const int yes = 1;
      ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    // Without it, a small answer written after its headers waits for the
    // client's delayed ACK (40 ms).
    server_.set_tcp_nodelay(true);
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ < 0) throw std::runtime_error("fault proxy: cannot listen on 127.0.0.1");
    // httplib listens with a backlog of 5: a burst of more connections loses
    // SYNs, and those clients wait a second to try again. Linux takes a
    // second listen() as a new backlog.
    ::listen(server_.listening_socket(), SOMAXCONN);

    std::promise<void> stopped;
    std::future<void> done = stopped.get_future();
    thread_ = std::thread([this, stopped = std::move(stopped)]() mutable {
      server_.listen_after_bind();
      stopped.set_value();
    });
    // httplib's stop() does nothing until the loop runs, so a destructor that
    // came first would wait forever.
    while (!server_.is_running() &&
           done.wait_for(std::chrono::milliseconds(1)) != std::future_status::ready) {
    }
  }

  ~Impl() {
    {
      std::lock_guard lock(streams_mutex_);
      stopping_ = true;
      for (const std::weak_ptr<StreamRelay>& stream : streams_) {
        if (std::shared_ptr<StreamRelay> open = stream.lock()) open->Cancel();
      }
    }
    server_.stop();
    thread_.join();
  }

  int port() const { return port_; }

  void SetPolicy(FaultPolicy policy) {
    std::lock_guard lock(policy_mutex_);
    policy_ = std::move(policy);
  }

  std::vector<ProxyLogEntry> Log() const {
    std::lock_guard lock(log_mutex_);
    return log_;
  }

 private:
  void Handle(const httplib::Request& request, httplib::Response& response) {
    // httplib applies a parsed Range to whatever the handler answers; the
    // apiserver's answer must reach the client as it is.
    const_cast<httplib::Request&>(request).ranges.clear();
    connections_.Current(request);
    const ProxiedRequest proxied{request.method, request.target};
    const size_t entry = Arrived(proxied);
    FaultPolicy policy;
    {
      std::lock_guard lock(policy_mutex_);
      policy = policy_;
    }
    if (std::optional<Fault> fault = policy ? policy(proxied) : std::nullopt) {
      return Inject(*fault, proxied, request, response, entry);
    }
    if (IsWatch(request)) return Relay(request, response, entry);
    Forward(request, response, entry);
  }

  void Inject(const Fault& fault, const ProxiedRequest& proxied, const httplib::Request& request,
              httplib::Response& response, size_t entry) {
    if (fault.drop_connection) {
      // Shut down before a byte of an answer: the client reads the end of
      // the stream; httplib's answer then fails with EPIPE and it closes.
      if (const int connection = connections_.Current(request); connection >= 0) {
        ::shutdown(connection, SHUT_RDWR);
        return Answered(entry, 0, true);
      }
      AnswerStatus(response, 500, "fault proxy: found no connection to drop");
      return Answered(entry, 500, true);
    }
    AnswerStatus(response, fault.status,
                 "fault proxy: injected " + std::to_string(fault.status) + " for " +
                     proxied.method + " " + proxied.path,
                 fault.retry_after_seconds);
    Answered(entry, fault.status, true);
  }

  void Forward(const httplib::Request& request, httplib::Response& response, size_t entry) {
    std::unique_ptr<httplib::SSLClient> client = TakeClient();
    if (!client->is_valid()) {
      return BadGateway(response, entry, "cannot load the client certificate");
    }
    httplib::Request upstream = UpstreamRequest(request);
    httplib::Response answer;
    httplib::Error error = httplib::Error::Success;
    if (!client->send(upstream, answer, error)) {
      return BadGateway(response, entry, httplib::to_string(error));
    }
    ReturnClient(std::move(client));
    response.status = answer.status;
    RelayHeaders(answer.headers, response);
    const std::string content_type = answer.get_header_value("Content-Type");
    if (!content_type.empty()) response.set_header("Content-Type", content_type);
    response.body = std::move(answer.body);
    Answered(entry, answer.status, false);
  }

  void Relay(const httplib::Request& request, httplib::Response& response, size_t entry) {
    auto relay = std::make_shared<StreamRelay>(NewClient(kWatchTimeout), UpstreamRequest(request));
    {
      std::lock_guard lock(streams_mutex_);
      if (stopping_) relay->Cancel();
      std::erase_if(streams_, [](const std::weak_ptr<StreamRelay>& s) { return s.expired(); });
      streams_.push_back(relay);
    }
    std::string error;
    const std::optional<StreamRelay::Head> head = relay->WaitForHead(error);
    if (!head) return BadGateway(response, entry, error);
    response.status = head->status;
    RelayHeaders(head->headers, response);
    // httplib would gzip a JSON stream for a client that accepts gzip, and its
    // compressor holds small writes back, so events would wait there instead
    // of reaching the client.
    const_cast<httplib::Request&>(request).headers.erase("Accept-Encoding");
    const auto content_type = head->headers.find("Content-Type");
    response.set_chunked_content_provider(
        content_type == head->headers.end() ? "application/json" : content_type->second,
        [relay](size_t, httplib::DataSink& sink) {
          std::string piece;
          switch (relay->WaitForPiece(piece)) {
            case StreamRelay::Next::kPiece:
              return sink.write(piece.data(), piece.size());
            case StreamRelay::Next::kEnd:
              sink.done();
              return true;
            case StreamRelay::Next::kFailed:
              break;
          }
          // Ends the connection without the last chunk: the client sees the
          // stream break, as it would if the apiserver had gone away.
          return false;
        });
    Answered(entry, head->status, false);
  }

  void BadGateway(httplib::Response& response, size_t entry, const std::string& why) {
    AnswerStatus(response, 502,
                 "fault proxy: the apiserver at " + upstream_.host + ":" +
                     std::to_string(upstream_.port) + " did not answer: " + why);
    Answered(entry, 502, false);
  }

  size_t Arrived(const ProxiedRequest& request) {
    std::lock_guard lock(log_mutex_);
    log_.push_back({std::chrono::steady_clock::now(), request.method, request.path, 0, false});
    return log_.size() - 1;
  }

  void Answered(size_t entry, int status, bool injected) {
    std::lock_guard lock(log_mutex_);
    log_[entry].status = status;
    log_[entry].injected = injected;
  }

  std::unique_ptr<httplib::SSLClient> NewClient(std::chrono::seconds read_timeout) const {
    auto client = std::make_unique<httplib::SSLClient>(upstream_.host, upstream_.port,
                                                       upstream_.cert_file, upstream_.key_file);
    client->set_ca_cert_path(upstream_.ca_file);
    client->enable_server_certificate_verification(true);
    client->set_url_encode(false);
    client->set_keep_alive(true);
    client->set_tcp_nodelay(true);
    client->set_connection_timeout(kConnectTimeout);
    client->set_read_timeout(read_timeout);
    client->set_write_timeout(kRequestTimeout);
    return client;
  }

  // A client whose connection to the apiserver may still be open, or a new one.
  std::unique_ptr<httplib::SSLClient> TakeClient() {
    {
      std::lock_guard lock(pool_mutex_);
      if (!idle_.empty()) {
        std::unique_ptr<httplib::SSLClient> client = std::move(idle_.back());
        idle_.pop_back();
        return client;
      }
    }
    return NewClient(kRequestTimeout);
  }

  // Only clients whose last request succeeded come back, so a broken
  // connection is not reused.
  void ReturnClient(std::unique_ptr<httplib::SSLClient> client) {
    std::lock_guard lock(pool_mutex_);
    if (idle_.size() < kIdleClients) idle_.push_back(std::move(client));
  }

  const Upstream upstream_;

  mutable std::mutex policy_mutex_;
  FaultPolicy policy_;

  mutable std::mutex log_mutex_;
  std::vector<ProxyLogEntry> log_;

  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<httplib::SSLClient>> idle_;

  std::mutex streams_mutex_;
  bool stopping_ = false;
  std::vector<std::weak_ptr<StreamRelay>> streams_;

  Connections connections_;
  ListeningServer server_;
  int port_ = -1;
  std::thread thread_;
};

FaultProxy::Upstream FaultProxy::FromClusterState(const std::string& state_dir) {
  const std::string kubeconfig = state_dir + "/kubeconfig";
  std::ifstream in(kubeconfig);
  if (!in) {
    throw std::runtime_error("fault proxy: cannot read " + kubeconfig +
                             "; start the cluster with e2e/cluster/up --state " + state_dir);
  }
  // e2e/cluster/up writes `server: https://HOST:PORT` on a line of its own.
  std::string line;
  while (std::getline(in, line)) {
    const size_t key = line.find("server:");
    if (key == std::string::npos) continue;
    std::string server = line.substr(key + std::string_view("server:").size());
    server.erase(0, server.find_first_not_of(" \t\"'"));
    server.erase(server.find_last_not_of(" \t\"'\r") + 1);
    constexpr std::string_view kScheme = "https://";
    const size_t colon = server.rfind(':');
    if (!server.starts_with(kScheme) || colon == std::string::npos || colon < kScheme.size()) {
      break;
    }
    Upstream upstream;
    upstream.host = server.substr(kScheme.size(), colon - kScheme.size());
    try {
      upstream.port = std::stoi(server.substr(colon + 1));
    } catch (const std::exception&) {
      break;
    }
    upstream.ca_file = state_dir + "/pki/ca.crt";
    upstream.cert_file = state_dir + "/pki/admin.crt";
    upstream.key_file = state_dir + "/pki/admin.key";
    return upstream;
  }
  throw std::runtime_error("fault proxy: " + kubeconfig +
                           " names no server of the form https://HOST:PORT");
}

FaultProxy::FaultProxy(Upstream upstream, FaultPolicy policy)
    : impl_(std::make_unique<Impl>(std::move(upstream), std::move(policy))) {}

FaultProxy::~FaultProxy() = default;

int FaultProxy::port() const { return impl_->port(); }

std::string FaultProxy::url() const { return "http://127.0.0.1:" + std::to_string(port()); }

void FaultProxy::SetPolicy(FaultPolicy policy) { impl_->SetPolicy(std::move(policy)); }

std::vector<ProxyLogEntry> FaultProxy::Log() const { return impl_->Log(); }

Fault Answer(int status, std::optional<int> retry_after_seconds) {
  Fault fault;
  fault.status = status;
  fault.retry_after_seconds = retry_after_seconds;
  return fault;
}

Fault Drop() {
  Fault fault;
  fault.drop_connection = true;
  return fault;
}

FaultPolicy EveryNth(int n, Fault fault) {
  if (n < 1) throw std::invalid_argument("EveryNth needs n >= 1, got " + std::to_string(n));
  auto seen = std::make_shared<std::atomic<uint64_t>>(0);
  return [n, fault, seen](const ProxiedRequest&) -> std::optional<Fault> {
    if ((seen->fetch_add(1) + 1) % static_cast<uint64_t>(n) == 0) return fault;
    return std::nullopt;
  };
}

FaultPolicy RandomFaults(double probability, std::vector<Fault> kinds, uint64_t seed) {
  if (kinds.empty()) throw std::invalid_argument("RandomFaults needs at least one kind of fault");
  struct State {
    std::mutex mutex;
    std::mt19937_64 random;
  };
  auto state = std::make_shared<State>();
  state->random.seed(seed);
  return [probability, kinds = std::move(kinds), state](const ProxiedRequest&) {
    std::lock_guard lock(state->mutex);
    // Drawn by hand: <random>'s distributions differ between standard
    // libraries, the engine's output does not, so a seed means the same
    // sequence everywhere.
    const double draw = static_cast<double>(state->random() >> 11) * 0x1.0p-53;
    if (draw >= probability) return std::optional<Fault>();
    return std::optional<Fault>(kinds[state->random() % kinds.size()]);
  };
}

}  // namespace ferry::testing
