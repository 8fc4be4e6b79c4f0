// SHA-256 through OpenSSL, incrementally (for streams and files larger than
// memory) or in one call. Digests travel as 64 lowercase hex characters, the
// form manifests and the CRDs use (with a "sha256:" prefix there).
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "lib/common/result.h"

namespace ferry {

using Sha256Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  void Update(std::span<const uint8_t> data);
  void Update(std::string_view data);
  // Ends the computation; the object must not be updated afterwards.
  Sha256Digest Finish();

 private:
  struct ContextDeleter {
    void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
  };
  std::unique_ptr<EVP_MD_CTX, ContextDeleter> context_;
};

Sha256Digest Sha256Of(std::span<const uint8_t> data);
Sha256Digest Sha256Of(std::string_view data);
Result<Sha256Digest> Sha256OfFile(const std::filesystem::path& path);

std::string ToHex(const Sha256Digest& digest);
// Parses exactly 64 hex characters (either case); nullopt-like error otherwise.
Result<Sha256Digest> ParseSha256Hex(std::string_view hex);

}  // namespace ferry
