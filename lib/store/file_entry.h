// One file of a version as the publisher's manifest describes it. Part of the
// public API (store.h includes it); its own header so the store's internals
// can use it without the whole Store.
#pragma once

#include <cstdint>
#include <string>

#include "lib/common/sha256.h"

namespace ferry::store {

struct FileEntry {
  std::string path;  // relative to the version folder, '/'-separated
  uint64_t size = 0;
  Sha256Digest sha256{};
  bool operator==(const FileEntry&) const = default;
};

}  // namespace ferry::store
