// The write side of the Kubernetes API as reconcilers see it. Client
// implements it against a real API server; tests/support/fake_cluster.h
// implements it in memory (resourceVersions, conflicts, the status
// subresource, finalizers), so that a reconciler's decisions are unit-tested
// without a cluster and without sleeping. Reads in a reconcile come from the
// informers' caches; Get is here for the re-read after a conflict, which must
// see the latest state and not the cache's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/common/result.h"
#include "lib/kube/object.h"
#include "lib/kube/resource.h"

namespace ferry::kube {

// kJson is RFC 6902: a failed `test` operation (a precondition such as
// {"op": "test", "path": "/metadata/generation", "value": 7}) comes back as
// kConflict, like a stale resourceVersion, so RetryOnConflict covers both.
enum class PatchType { kMerge, kJson, kStrategicMerge };

struct DeleteOptions {
  std::string precondition_uid{};               // refuse unless the object has this uid
  std::string precondition_resource_version{};  // …or this resourceVersion
  std::string propagation_policy{};             // "Foreground", "Background", "Orphan"
  std::optional<int64_t> grace_period_seconds{};
};

class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;

  virtual Result<Json> Get(const ResourceType& type, std::string_view namespace_name,
                           std::string_view name, std::string_view subresource = "") = 0;
  // kAlreadyExists when the name is taken.
  virtual Result<Json> Create(const ResourceType& type, const Json& object) = 0;
  // PUT of the main resource (status ignored); kConflict when the object's
  // metadata.resourceVersion is stale.
  virtual Result<Json> Update(const ResourceType& type, const Json& object) = 0;
  // PUT of the status subresource (everything but status ignored); kConflict as Update.
  virtual Result<Json> UpdateStatus(const ResourceType& type, const Json& object) = 0;
  // A patch carrying metadata.resourceVersion is refused with kConflict when
  // that is not the object's current resourceVersion (an optimistic lock).
  virtual Result<Json> Patch(const ResourceType& type, std::string_view namespace_name,
                             std::string_view name, PatchType patch_type, const Json& patch,
                             std::string_view subresource = "") = 0;
  virtual Status Delete(const ResourceType& type, std::string_view namespace_name,
                        std::string_view name, const DeleteOptions& options = {}) = 0;
};

}  // namespace ferry::kube
