#include "lib/kube/tls_material.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <charconv>
#include <functional>

namespace ferry::kube {
namespace {

using UniqueBio = std::unique_ptr<BIO, decltype(&BIO_free)>;

UniqueBio ReadOnlyBio(const std::string& text) {
  return {BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free};
}

// Calls `use` with each certificate of a PEM text; returns how many there were.
int ForEachCertificate(const std::string& pem, const std::function<void(X509*)>& use) {
  UniqueBio bio = ReadOnlyBio(pem);
  int count = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    ++count;
    use(cert);
    X509_free(cert);
  }
  ERR_clear_error();  // the loop ends on an expected "no start line"
  return count;
}

Error ConfigError(const ClusterConfig& config, const std::string& what) {
  return MakeError(ErrorCode::kInvalidArgument, config.origin + ": " + what);
}

// "https://host:port" or "https://[v6]:port"; the port defaults by scheme.
Status ParseServer(const ClusterConfig& config, TlsMaterial& tls) {
  std::string_view rest = config.server;
  tls.https = rest.starts_with("https://");
  if (!tls.https && !rest.starts_with("http://")) {
    return ConfigError(config,
                       "server \"" + config.server + "\" is not a URL; expected https://host:port");
  }
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

}  // namespace

X509_STORE* TlsMaterial::NewCaStore() const {
  X509_STORE* store = X509_STORE_new();
  ForEachCertificate(ca_pem, [store](X509* cert) { X509_STORE_add_cert(store, cert); });
  return store;
}

Result<std::shared_ptr<const TlsMaterial>> ParseTlsMaterial(const ClusterConfig& config) {
  auto tls = std::make_shared<TlsMaterial>();
  if (Status parsed = ParseServer(config, *tls); !parsed) return parsed.error();
  tls->insecure = config.insecure_skip_tls_verify;
  tls->server_name = config.tls_server_name;
  tls->ca_pem = config.ca_pem;
  if (!tls->ca_pem.empty() && ForEachCertificate(tls->ca_pem, [](X509*) {}) == 0) {
    return ConfigError(config, "the certificate authority data holds no PEM certificate");
  }
  if (!config.client_cert_pem.empty()) {
    UniqueBio cert_bio = ReadOnlyBio(config.client_cert_pem);
    tls->client_cert.reset(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    UniqueBio key_bio = ReadOnlyBio(config.client_key_pem);
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

}  // namespace ferry::kube
