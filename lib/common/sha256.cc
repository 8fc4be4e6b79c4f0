#include "lib/common/sha256.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "lib/common/file.h"

namespace ferry {

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  // Only allocation can fail here, and that is not an expected failure.
  if (!context_ || EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr) != 1) std::abort();
}

void Sha256::Update(std::span<const uint8_t> data) {
  if (!data.empty()) EVP_DigestUpdate(context_.get(), data.data(), data.size());
}

void Sha256::Update(std::string_view data) {
  Update(std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}

Sha256Digest Sha256::Finish() {
  Sha256Digest digest{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(context_.get(), digest.data(), &length);
  return digest;
}

Sha256Digest Sha256Of(std::span<const uint8_t> data) {
  Sha256 hash;
  hash.Update(data);
  return hash.Finish();
}

Sha256Digest Sha256Of(std::string_view data) {
  Sha256 hash;
  hash.Update(data);
  return hash.Finish();
}

Result<Sha256Digest> Sha256OfFile(const std::filesystem::path& path) {
  Result<UniqueFd> file = OpenForRead(path);
  if (!file) return file.error();
  Sha256 hash;
  std::array<uint8_t, 1 << 20> buffer;
  while (true) {
    const ssize_t n = ::read(file->get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read", path, errno);
    }
    if (n == 0) break;
    hash.Update(std::span(buffer.data(), static_cast<size_t>(n)));
  }
  return hash.Finish();
}

std::string ToHex(const Sha256Digest& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex(64, '0');
  for (size_t i = 0; i < digest.size(); ++i) {
    hex[2 * i] = kDigits[digest[i] >> 4];
    hex[2 * i + 1] = kDigits[digest[i] & 0xf];
  }
  return hex;
}

Result<Sha256Digest> ParseSha256Hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() != 64) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "a SHA-256 digest is 64 hex characters, got " + std::to_string(hex.size()));
  }
  Sha256Digest digest{};
  for (size_t i = 0; i < digest.size(); ++i) {
    const int high = nibble(hex[2 * i]);
    const int low = nibble(hex[2 * i + 1]);
    if (high < 0 || low < 0) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "not a hex SHA-256 digest: '" + std::string(hex) + "'");
    }
    digest[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return digest;
}

}  // namespace ferry
