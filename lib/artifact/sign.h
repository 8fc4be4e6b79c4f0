// Ed25519 signatures over a manifest's exact bytes (detached), through OpenSSL.
// Keys travel as PEM: PKCS#8 for the private key, SubjectPublicKeyInfo for the
// public key, the forms `openssl pkey` reads, so operators can inspect them.
#pragma once

#include <openssl/evp.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "lib/common/result.h"

namespace ferry {

inline constexpr size_t kEd25519SignatureSize = 64;

class SigningKey;

// A public key that verifies signatures.
class VerifyingKey {
 public:
  static Result<VerifyingKey> FromPem(std::string_view pem);
  static Result<VerifyingKey> Load(const std::filesystem::path& path);

  std::string ToPem() const;
  // Ok when `signature` is a valid Ed25519 signature of `message` by this key;
  // kCorrupt otherwise (a forged, damaged or foreign signature).
  Status Verify(std::string_view message, std::string_view signature) const;

 private:
  friend class SigningKey;
  struct Deleter {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
  };
  explicit VerifyingKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}
  std::shared_ptr<EVP_PKEY> key_;
};

// A private key that signs. Never logged or printed.
class SigningKey {
 public:
  static Result<SigningKey> Generate();
  static Result<SigningKey> FromPem(std::string_view pem);
  static Result<SigningKey> Load(const std::filesystem::path& path);

  std::string ToPem() const;
  VerifyingKey Public() const;
  // The 64-byte detached signature of `message`.
  Result<std::string> Sign(std::string_view message) const;

 private:
  explicit SigningKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}
  std::shared_ptr<EVP_PKEY> key_;
};

}  // namespace ferry
