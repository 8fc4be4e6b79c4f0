#include "lib/artifact/signed_manifest.h"

namespace ferry {

Result<Sha256Digest> ParseDigestReference(std::string_view reference) {
  constexpr std::string_view kPrefix = "sha256:";
  if (reference.substr(0, kPrefix.size()) != kPrefix) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "digest '" + std::string(reference) + "' must look like sha256:<64 hex>");
  }
  return ParseSha256Hex(reference.substr(kPrefix.size()));
}

Result<SignedManifest> OpenSignedManifest(std::string bytes, std::string signature,
                                          const VerifyingKey& key, std::string_view model,
                                          std::string_view version,
                                          const std::optional<Sha256Digest>& pinned_digest) {
  const std::string what = "manifest of " + std::string(model) + " " + std::string(version);
  SignedManifest result;
  result.digest = Sha256Of(std::string_view(bytes));
  if (pinned_digest && *pinned_digest != result.digest) {
    return MakeError(ErrorCode::kCorrupt, what + " has digest sha256:" + ToHex(result.digest) +
                                              " but sha256:" + ToHex(*pinned_digest) +
                                              " was pinned; the repository holds other content "
                                              "than the one you asked for");
  }
  if (Status s = key.Verify(bytes, signature); !s) return s.error().Wrap(what);
  Result<Manifest> manifest = ParseManifest(bytes);
  if (!manifest) return manifest.error().Wrap(what);
  if (manifest->model != model || manifest->version != version) {
    return MakeError(ErrorCode::kCorrupt, what + " is signed but describes " + manifest->model +
                                              " " + manifest->version +
                                              "; the repository is misconfigured or replaying");
  }
  result.bytes = std::move(bytes);
  result.signature = std::move(signature);
  result.manifest = std::move(*manifest);
  return result;
}

}  // namespace ferry
