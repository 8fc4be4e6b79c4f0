#include "lib/kube/transport.h"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <charconv>

#include "lib/common/version.h"
#include "lib/kube/sigpipe_guard.h"

namespace ferry::kube {

// Parsed once from the ClusterConfig. OpenSSL keeps its own references to the
// certificate and key when a connection's context adopts them, so these may
// outlive or predecease any connection.
class TlsMaterial {
 public:
  bool https = true;
  std::string host;  // what we connect to
  int port = 443;
  std::string ca_pem;  // empty: the system's trust store
  bool insecure = false;
  std::string server_name;  // the name the certificate must carry, when not `host`
  std::unique_ptr<X509, decltype(&X509_free)> client_cert{nullptr, &X509_free};
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> client_key{nullptr, &EVP_PKEY_free};

  // A fresh store each time: a connection's context takes ownership of it.
  X509_STORE* NewCaStore() const {
    X509_STORE* store = X509_STORE_new();
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())), &BIO_free);
    while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(store, cert);
      X509_free(cert);
    }
    ERR_clear_error();  // the loop ends on an expected "no start line"
    return store;
  }
};

namespace {

Error ConfigError(const ClusterConfig& config, const std::string& what) {
  return MakeError(ErrorCode::kInvalidArgument, config.origin + ": " + what);
}

int CountPemCertificates(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  int count = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    ++count;
    X509_free(cert);
  }
  ERR_clear_error();
  return count;
}

// "https://host:port" or "https://[v6]:port"; the port defaults by scheme.
Status ParseServer(const ClusterConfig& config, TlsMaterial& tls) {
  std::string_view rest = config.server;
  tls.https = rest.starts_with("https://");
  rest.remove_prefix(tls.https ? 8 : 7);
  if (rest.find('/') != std::string_view::npos) {
    return ConfigError(config,
                       "server " + config.server + " has a path; Ferry expects https://host:port");
  }
  std::string_view port;
  if (rest.starts_with('[')) {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return ConfigError(config, "bad server " + config.server);
    tls.host = std::string(rest.substr(1, close - 1));
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else {
    const size_t colon = rest.rfind(':');
    tls.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
  }
  tls.port = tls.https ? 443 : 80;
  if (!port.empty()) {
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), tls.port);
    if (error != std::errc() || end != port.data() + port.size() || tls.port <= 0 ||
        tls.port > 65535) {
      return ConfigError(config, "server " + config.server + " has a bad port");
    }
  }
  if (tls.host.empty()) return ConfigError(config, "server " + config.server + " has no host");
  return OkStatus();
}

Result<std::shared_ptr<const TlsMaterial>> ParseTls(const ClusterConfig& config) {
  auto tls = std::make_shared<TlsMaterial>();
  if (Status parsed = ParseServer(config, *tls); !parsed) return parsed.error();
  tls->insecure = config.insecure_skip_tls_verify;
  tls->server_name = config.tls_server_name;
  tls->ca_pem = config.ca_pem;
  if (!tls->ca_pem.empty() && CountPemCertificates(tls->ca_pem) == 0) {
    return ConfigError(config, "the certificate authority data holds no PEM certificate");
  }
  if (!config.client_cert_pem.empty()) {
    std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(
        BIO_new_mem_buf(config.client_cert_pem.data(),
                        static_cast<int>(config.client_cert_pem.size())),
        &BIO_free);
    tls->client_cert.reset(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(
        BIO_new_mem_buf(config.client_key_pem.data(),
                        static_cast<int>(config.client_key_pem.size())),
        &BIO_free);
    tls->client_key.reset(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
    if (!tls->client_cert) return ConfigError(config, "the client certificate is not PEM");
    if (!tls->client_key) return ConfigError(config, "the client key is not a PEM private key");
    if (X509_check_private_key(tls->client_cert.get(), tls->client_key.get()) != 1) {
      ERR_clear_error();
      return ConfigError(config, "the client key does not belong to the client certificate");
    }
  }
  return std::shared_ptr<const TlsMaterial>(std::move(tls));
}

std::optional<std::chrono::seconds> ParseRetryAfter(const httplib::Response& answer) {
  if (!answer.has_header("Retry-After")) return std::nullopt;
  const std::string value = answer.get_header_value("Retry-After");
  int64_t seconds = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (error != std::errc() || end != value.data() + value.size() || seconds < 0) {
    return std::nullopt;  // the HTTP-date form; the backoff decides instead
  }
  return std::chrono::seconds(std::min<int64_t>(seconds, 3600));
}

Error TransportError(const HttpRequest& request, const std::string& server, httplib::Error error,
                     long verify_result) {
  std::string what;
  switch (error) {
    case httplib::Error::Connection:
      what = "could not connect";
      break;
    case httplib::Error::ConnectionTimeout:
      what = "timed out connecting";
      break;
    case httplib::Error::Read:
      what = "the connection broke or went silent";
      break;
    case httplib::Error::Write:
      what = "the connection broke while sending";
      break;
    case httplib::Error::SSLServerVerification:
      return MakeError(ErrorCode::kPermissionDenied,
                       request.method + " " + server + request.target +
                           ": the API server's certificate is not trusted (" +
                           X509_verify_cert_error_string(verify_result) +
                           "); check certificate-authority in the kubeconfig");
    case httplib::Error::Canceled:
      what = "cancelled";
      break;
    default:
      what = httplib::to_string(error);
  }
  return MakeError(ErrorCode::kUnavailable,
                   request.method + " " + server + request.target + ": " + what);
}

HttpResponse ToResponse(httplib::Response& answer) {
  HttpResponse response;
  response.status = answer.status;
  response.body = std::move(answer.body);
  response.content_type = answer.get_header_value("Content-Type");
  response.retry_after = ParseRetryAfter(answer);
  return response;
}

}  // namespace

Result<std::unique_ptr<Transport>> Transport::Create(const ClusterConfig& config,
                                                     TransportOptions options) {
  Result<std::shared_ptr<const TlsMaterial>> tls = ParseTls(config);
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

Status Transport::AddAuthorization(std::vector<std::pair<std::string, std::string>>& headers) {
  Result<std::string> token = token_->Token();
  if (!token) return token.error();
  if (!token->empty()) headers.emplace_back("Authorization", "Bearer " + *token);
  return OkStatus();
}

namespace {

Result<httplib::Request> BuildRequest(const HttpRequest& request, const std::string& user_agent,
                                      std::vector<std::pair<std::string, std::string>> extra) {
  httplib::Request out;
  out.method = request.method;
  out.path = request.target;
  out.body = request.body;
  out.headers.emplace("Accept", "application/json");
  out.headers.emplace("User-Agent", user_agent + "/" + std::string(kVersion));
  if (!request.content_type.empty()) out.headers.emplace("Content-Type", request.content_type);
  for (auto& [name, value] : extra) out.headers.emplace(std::move(name), std::move(value));
  return out;
}

}  // namespace

Result<HttpResponse> Transport::RoundTrip(const HttpRequest& request) {
  SigpipeGuard guard;
  std::vector<std::pair<std::string, std::string>> auth;
  if (Status added = AddAuthorization(auth); !added) return added.error();
  Result<httplib::Request> built = BuildRequest(request, options_.user_agent, std::move(auth));
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
    long verify_result = 0;
    if (auto* ssl = dynamic_cast<httplib::SSLClient*>(client.get())) {
      verify_result = ssl->get_openssl_verify_result();
    }
    return TransportError(request, server_, error, verify_result);  // the connection is dropped
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
  std::vector<std::pair<std::string, std::string>> auth;
  if (Status added = transport_.AddAuthorization(auth); !added) return added.error();
  Result<httplib::Request> built =
      BuildRequest(request, transport_.options_.user_agent, std::move(auth));
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
  {
    std::lock_guard lock(client_mutex_);
    client_.reset();
  }
  if (cancelled_ || (!sent && error == httplib::Error::Canceled && status == 200)) {
    HttpResponse ended;
    ended.status = status == 0 ? 200 : status;
    return ended;
  }
  if (!sent) return TransportError(request, transport_.server_, error, 0);
  HttpResponse response = ToResponse(answer);
  if (response.status != 200) response.body = std::move(error_body);
  return response;
}

}  // namespace ferry::kube
