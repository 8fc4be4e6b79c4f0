// Where and how to connect, parsed once from a ClusterConfig: the server's
// host and port, the CA certificates to trust, and our client certificate and
// key as OpenSSL objects. Every connection of a Transport shares one
// TlsMaterial; OpenSSL keeps its own references to the certificate and key
// when a connection adopts them, so either may outlive the other.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "lib/common/result.h"
#include "lib/kube/config.h"

namespace ferry::kube {

struct TlsMaterial {
  bool https = true;
  std::string host;  // what we connect to
  int port = 443;
  std::string ca_pem;  // empty: the system's trust store
  bool insecure = false;
  std::string server_name;  // the name the certificate must carry, when not `host`
  std::unique_ptr<X509, decltype(&X509_free)> client_cert{nullptr, &X509_free};
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> client_key{nullptr, &EVP_PKEY_free};

  // A fresh store of the CA certificates each time: a connection's context
  // takes ownership of the store it is given.
  X509_STORE* NewCaStore() const;
};

// Checks and parses; kInvalidArgument naming the config's origin and the
// problem (a server URL with a path, PEM that is not, a key for another
// certificate).
Result<std::shared_ptr<const TlsMaterial>> ParseTlsMaterial(const ClusterConfig& config);

}  // namespace ferry::kube
