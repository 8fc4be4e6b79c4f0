// Feeds arbitrary bytes to the manifest parser: it must return a manifest or
// an error, never crash, hang or read out of bounds. Whatever parses must
// survive a serialise/parse round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lib/artifact/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ferry::Result<ferry::Manifest> parsed = ferry::ParseManifest(text);
  if (!parsed) return 0;
  const std::string canonical = ferry::SerializeManifest(*parsed);
  ferry::Result<ferry::Manifest> again = ferry::ParseManifest(canonical);
  if (!again || ferry::SerializeManifest(*again) != canonical) std::abort();
  return 0;
}
