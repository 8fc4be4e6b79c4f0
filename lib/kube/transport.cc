#include "lib/kube/transport.h"

#include <httplib.h>
#include <openssl/x509.h>

#include "lib/common/http_exchange.h"
#include "lib/common/sigpipe_guard.h"
#include "lib/common/version.h"
#include "lib/kube/tls_material.h"

namespace ferry::kube {

namespace {

Error TransportError(const HttpRequest& request, const std::string& server, httplib::Error error,
                     long verify_result) {
  const std::string what = request.method + " " + server + request.target + ": ";
  if (error == httplib::Error::SSLServerVerification) {
    return MakeError(ErrorCode::kPermissionDenied,
                     what + "the API server's certificate is not trusted (" +
                         X509_verify_cert_error_string(verify_result) +
                         "); check certificate-authority in the kubeconfig");
  }
  return MakeError(ErrorCode::kUnavailable, what + DescribeTransportError(error));
}

// What OpenSSL said of the server's certificate, for a failed verification.
long VerifyResult(const httplib::ClientImpl& client) {
  const auto* ssl = dynamic_cast<const httplib::SSLClient*>(&client);
  return ssl != nullptr ? ssl->get_openssl_verify_result() : 0;
}

HttpResponse ToResponse(httplib::Response& answer) {
  HttpResponse response;
  response.status = answer.status;
  response.body = std::move(answer.body);
  response.content_type = answer.get_header_value("Content-Type");
  // An hour at most: a longer wait is better left to the caller's own retry.
  if (const auto seconds = RetryAfterSeconds(answer)) {
    response.retry_after = std::min(*seconds, std::chrono::seconds(3600));
  }
  return response;
}

}  // namespace

Result<std::unique_ptr<Transport>> Transport::Create(const ClusterConfig& config,
                                                     TransportOptions options) {
  Result<std::shared_ptr<const TlsMaterial>> tls = ParseTlsMaterial(config);
  if (!tls) return tls.error();
  auto token = config.token_file.empty() ? TokenSource::Fixed(config.bearer_token)
                                         : TokenSource::FromFile(config.token_file);
  return std::make_unique<Transport>(config.server, std::move(*tls), std::move(token),
                                     std::move(options));
}

Transport::Transport(std::string server, std::shared_ptr<const TlsMaterial> tls,
                     std::unique_ptr<TokenSource> token, TransportOptions options)
    : server_(std::move(server)),
      tls_(std::move(tls)),
      token_(std::move(token)),
      options_(std::move(options)) {}

Transport::~Transport() {
  SigpipeGuard guard;  // closing a TLS connection writes to it
  idle_.clear();
}

Result<std::unique_ptr<httplib::ClientImpl>> Transport::NewClient(
    std::chrono::seconds read_timeout) {
  const TlsMaterial& tls = *tls_;
  // With a server name to check other than the host, connect to the host but
  // speak to (and verify) the name.
  const std::string& name = tls.server_name.empty() ? tls.host : tls.server_name;
  std::unique_ptr<httplib::ClientImpl> client;
  if (tls.https) {
    auto ssl = std::make_unique<httplib::SSLClient>(name, tls.port, tls.client_cert.get(),
                                                    tls.client_key.get());
    if (!ssl->is_valid()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "could not set up TLS with the client certificate for " + server_);
    }
    if (!tls.ca_pem.empty()) {
      ssl->set_ca_cert_store(tls.NewCaStore());
    } else {
      SSL_CTX_set_default_verify_paths(ssl->ssl_context());
    }
    ssl->enable_server_certificate_verification(!tls.insecure);
    client = std::move(ssl);
  } else {
    client = std::make_unique<httplib::ClientImpl>(name, tls.port);
  }
  if (name != tls.host) client->set_hostname_addr_map({{name, tls.host}});
  client->set_keep_alive(true);
  client->set_connection_timeout(options_.connect_timeout);
  client->set_read_timeout(read_timeout);
  client->set_write_timeout(options_.request_timeout);
  client->set_follow_location(false);
  return client;
}

std::unique_ptr<httplib::ClientImpl> Transport::TakeIdle() {
  std::lock_guard lock(pool_mutex_);
  if (idle_.empty()) return nullptr;
  std::unique_ptr<httplib::ClientImpl> client = std::move(idle_.back());
  idle_.pop_back();
  return client;
}

void Transport::ReturnIdle(std::unique_ptr<httplib::ClientImpl> client) {
  std::lock_guard lock(pool_mutex_);
  // A full pool closes the connection, on the caller's thread, under its SigpipeGuard.
  if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(client));
}

Result<httplib::Request> Transport::Prepare(const HttpRequest& request) {
  httplib::Request out;
  out.method = request.method;
  out.path = request.target;
  out.body = request.body;
  out.headers.emplace("Accept", "application/json");
  out.headers.emplace("User-Agent", options_.user_agent + "/" + std::string(kVersion));
  if (!request.content_type.empty()) out.headers.emplace("Content-Type", request.content_type);
  Result<std::string> token = token_->Token();
  if (!token) return token.error();
  if (!token->empty()) out.headers.emplace("Authorization", "Bearer " + *token);
  return out;
}

Result<HttpResponse> Transport::RoundTrip(const HttpRequest& request) {
  SigpipeGuard guard;
  Result<httplib::Request> built = Prepare(request);
  if (!built) return built.error();

  std::unique_ptr<httplib::ClientImpl> client = TakeIdle();
  if (!client) {
    Result<std::unique_ptr<httplib::ClientImpl>> fresh = NewClient(options_.request_timeout);
    if (!fresh) return fresh.error();
    client = std::move(*fresh);
  }
  httplib::Response answer;
  httplib::Error error = httplib::Error::Success;
  if (!client->send(*built, answer, error)) {
    return TransportError(request, server_, error, VerifyResult(*client));  // dropped, not pooled
  }
  HttpResponse response = ToResponse(answer);
  ReturnIdle(std::move(client));
  return response;
}

Transport::Stream::Stream(Transport& transport) : transport_(transport) {}

Transport::Stream::~Stream() = default;

void Transport::Stream::Cancel() {
  cancelled_ = true;
  std::lock_guard lock(client_mutex_);
  // stop() only shuts the socket down, which is safe while another thread reads it.
  if (client_) client_->stop();
}

Result<HttpResponse> Transport::Stream::Run(const HttpRequest& request,
                                            std::chrono::seconds idle_timeout,
                                            const std::function<bool(std::string_view)>& on_data) {
  SigpipeGuard guard;
  Result<httplib::Request> built = transport_.Prepare(request);
  if (!built) return built.error();
  {
    Result<std::unique_ptr<httplib::ClientImpl>> fresh = transport_.NewClient(idle_timeout);
    if (!fresh) return fresh.error();
    std::lock_guard lock(client_mutex_);
    client_ = std::move(*fresh);
  }
  int status = 0;
  std::string error_body;
  built->response_handler = [&](const httplib::Response& answer) {
    status = answer.status;
    return !cancelled_;
  };
  built->content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    if (cancelled_) return false;
    if (status != 200) {
      error_body.append(data, size);
      return true;
    }
    return on_data(std::string_view(data, size));
  };
  httplib::Response answer;
  httplib::Error error = httplib::Error::Success;
  const bool sent = !cancelled_ && client_->send(*built, answer, error);
  long verify_result = 0;
  {
    std::lock_guard lock(client_mutex_);
    verify_result = VerifyResult(*client_);
    client_.reset();
  }
  if (cancelled_ || (!sent && error == httplib::Error::Canceled && status == 200)) {
    HttpResponse ended;
    ended.status = status == 0 ? 200 : status;
    return ended;
  }
  if (!sent) return TransportError(request, transport_.server_, error, verify_result);
  HttpResponse response = ToResponse(answer);
  if (response.status != 200) response.body = std::move(error_body);
  return response;
}

}  // namespace ferry::kube
