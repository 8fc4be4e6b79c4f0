#include "lib/artifact/sign.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "lib/common/file.h"

namespace ferry {
namespace {

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using UniqueBio = std::unique_ptr<BIO, BioDeleter>;
struct MdContextDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
using UniqueMdContext = std::unique_ptr<EVP_MD_CTX, MdContextDeleter>;

std::shared_ptr<EVP_PKEY> Own(EVP_PKEY* key) {
  return std::shared_ptr<EVP_PKEY>(key, [](EVP_PKEY* k) { EVP_PKEY_free(k); });
}

// The text of OpenSSL's most recent error, for messages; clears its queue.
std::string OpenSslReason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof buffer);
  return buffer;
}

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(length));
}

Result<std::shared_ptr<EVP_PKEY>> RequireEd25519(EVP_PKEY* key, std::string_view what) {
  if (key == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string("not a PEM ") + std::string(what) + ": " + OpenSslReason());
  }
  auto owned = Own(key);
  if (EVP_PKEY_id(key) != EVP_PKEY_ED25519) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(what) + " is not an Ed25519 key; make one with `ferryctl keygen`");
  }
  return owned;
}

}  // namespace

Result<VerifyingKey> VerifyingKey::FromPem(std::string_view pem) {
  UniqueBio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  auto key =
      RequireEd25519(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), "public key");
  if (!key) return key.error();
  return VerifyingKey(std::move(*key));
}

Result<VerifyingKey> VerifyingKey::Load(const std::filesystem::path& path) {
  Result<std::string> pem = ReadFileToString(path);
  if (!pem) return pem.error();
  Result<VerifyingKey> key = FromPem(*pem);
  if (!key) return key.error().Wrap(path.string());
  return key;
}

std::string VerifyingKey::ToPem() const {
  UniqueBio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key_.get());
  return BioToString(bio.get());
}

Status VerifyingKey::Verify(std::string_view message, std::string_view signature) const {
  if (signature.size() != kEd25519SignatureSize) {
    return MakeError(ErrorCode::kCorrupt, "signature has " + std::to_string(signature.size()) +
                                              " bytes; an Ed25519 signature has 64");
  }
  UniqueMdContext context(EVP_MD_CTX_new());
  if (EVP_DigestVerifyInit(context.get(), nullptr, nullptr, nullptr, key_.get()) != 1) {
    return MakeError(ErrorCode::kInternal, "signature check setup failed: " + OpenSslReason());
  }
  const int verdict = EVP_DigestVerify(
      context.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
      reinterpret_cast<const unsigned char*>(message.data()), message.size());
  ERR_clear_error();
  if (verdict != 1) {
    return MakeError(
        ErrorCode::kCorrupt,
        "signature does not match: the manifest was altered, the signature is damaged, "
        "or it was signed with another key than the one given");
  }
  return OkStatus();
}

Result<SigningKey> SigningKey::Generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (key == nullptr) {
    return MakeError(ErrorCode::kInternal, "Ed25519 key generation failed: " + OpenSslReason());
  }
  return SigningKey(Own(key));
}

Result<SigningKey> SigningKey::FromPem(std::string_view pem) {
  UniqueBio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  auto key =
      RequireEd25519(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), "private key");
  if (!key) return key.error();
  return SigningKey(std::move(*key));
}

Result<SigningKey> SigningKey::Load(const std::filesystem::path& path) {
  Result<std::string> pem = ReadFileToString(path);
  if (!pem) return pem.error();
  Result<SigningKey> key = FromPem(*pem);
  if (!key) return key.error().Wrap(path.string());
  return key;
}

std::string SigningKey::ToPem() const {
  UniqueBio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return BioToString(bio.get());
}

VerifyingKey SigningKey::Public() const {
  // The private key object also answers public-key operations.
  return VerifyingKey(key_);
}

Result<std::string> SigningKey::Sign(std::string_view message) const {
  UniqueMdContext context(EVP_MD_CTX_new());
  std::string signature(kEd25519SignatureSize, '\0');
  size_t length = signature.size();
  if (EVP_DigestSignInit(context.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    return MakeError(ErrorCode::kInternal, "signing failed: " + OpenSslReason());
  }
  signature.resize(length);
  return signature;
}

}  // namespace ferry
