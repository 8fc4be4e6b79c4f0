// What a reconciler reads: the informers' caches, one Store per resource
// type, read-only. Manager provides it in production (the caches its
// informers fill); tests/support/fake_cluster.h provides it in unit tests
// (stores that follow the fake's writes at once), so a reconciler takes a
// `const Caches&` and reads the same Store class in both.
//
// Reading a type that nobody watches is a programming error: a Manager
// throws std::out_of_range naming the type (an empty cache would look like
// "nothing exists" and make a reconciler create what is already there).
#pragma once

#include <string>

#include "lib/kube/resource.h"
#include "lib/kube/store.h"

namespace ferry::kube {

class Caches {
 public:
  virtual ~Caches() = default;

  virtual const Store& Of(const ResourceType& type) const = 0;
};

// The key under which caches file a type: group, version and plural (kind
// and scope follow from them).
inline std::string CacheKey(const ResourceType& type) {
  return type.ApiVersion() + "/" + type.plural;
}

}  // namespace ferry::kube
