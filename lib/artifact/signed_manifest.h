// Turning untrusted manifest bytes into a trusted Manifest: the digest pin (when
// the ModelVersion names one) and the signature are checked over the exact
// bytes BEFORE any parsing, then the manifest must describe the model and
// version that were asked for (a validly signed manifest of another version is
// a replay, not an update).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "lib/artifact/manifest.h"
#include "lib/artifact/sign.h"

namespace ferry {

struct SignedManifest {
  std::string bytes;
  std::string signature;
  Sha256Digest digest{};  // of `bytes`
  Manifest manifest;
};

Result<SignedManifest> OpenSignedManifest(std::string bytes, std::string signature,
                                          const VerifyingKey& key, std::string_view model,
                                          std::string_view version,
                                          const std::optional<Sha256Digest>& pinned_digest);

// "sha256:<64 hex>" as ModelVersion.spec.source.manifestDigest writes it.
Result<Sha256Digest> ParseDigestReference(std::string_view reference);

}  // namespace ferry
