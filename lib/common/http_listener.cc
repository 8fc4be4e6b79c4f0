#include "lib/common/http_listener.h"

#include <httplib.h>
#include <sys/socket.h>

namespace ferry {

Result<std::unique_ptr<HttpListener>> HttpListener::Start(std::unique_ptr<httplib::Server> server,
                                                          const ListenAddress& address) {
  server->set_socket_options([](int socket) {
    const int yes = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  const int bound = address.port == 0
                        ? server->bind_to_any_port(address.host)
                        : (server->bind_to_port(address.host, address.port) ? address.port : -1);
  if (bound < 0) {
    return MakeError(ErrorCode::kUnavailable,
                     "cannot listen on " + address.ToString() +
                         " (the port is taken or the address is not this machine's); choose "
                         "another address or port");
  }
  return std::make_unique<HttpListener>(StartOnly(), std::move(server), bound);
}

HttpListener::HttpListener(StartOnly, std::unique_ptr<httplib::Server> server, int port)
    : server_(std::move(server)), port_(port) {
  std::promise<void> stopped;
  stopped_ = stopped.get_future().share();
  thread_ = std::thread([this, stopped = std::move(stopped)]() mutable {
    server_->listen_after_bind();
    stopped.set_value();
  });
  while (!server_->is_running() &&
         stopped_.wait_for(std::chrono::milliseconds(1)) != std::future_status::ready) {
  }
}

HttpListener::~HttpListener() {
  Stop();
  thread_.join();
}

void HttpListener::Stop() {
  server_->stop();
  stopped_.wait();
}

}  // namespace ferry
