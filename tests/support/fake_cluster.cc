#include "tests/support/fake_cluster.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <string_view>

#include "lib/common/utc_time.h"

namespace ferry::testing {

using kube::Json;
using kube::ResourceType;

namespace {

// Kinds without a status: what a client sends as "status" is an unknown
// field there, dropped, and the status subresource does not exist.
bool HasStatus(const ResourceType& type) {
  static constexpr std::string_view kWithout[] = {"ConfigMap",
                                                  "Secret",
                                                  "ServiceAccount",
                                                  "Endpoints",
                                                  "EndpointSlice",
                                                  "Lease",
                                                  "Event",
                                                  "Role",
                                                  "RoleBinding",
                                                  "ClusterRole",
                                                  "ClusterRoleBinding",
                                                  "PriorityClass",
                                                  "StorageClass"};
  for (std::string_view kind : kWithout) {
    if (type.kind == kind) return false;
  }
  return true;
}

// Core v1 objects (ConfigMaps, Services, Namespaces, ...) carry no
// metadata.generation, nor do Leases and Events; workloads and custom
// resources do. Pods have one since Kubernetes 1.33.
bool HasGeneration(const ResourceType& type) {
  if (type.group.empty()) return type.kind == "Pod" || type.kind == "ReplicationController";
  return type.group != "coordination.k8s.io" && type.group != "events.k8s.io" &&
         type.group != "rbac.authorization.k8s.io";
}

// Everything but metadata and status: what moves the generation.
Json Desired(const Json& object) {
  Json rest = object;
  rest.erase("metadata");
  rest.erase("status");
  return rest;
}

std::vector<std::string> Finalizers(const Json& object) {
  std::vector<std::string> finalizers;
  const Json& metadata = kube::ObjectField(object, "metadata");
  if (auto found = metadata.find("finalizers"); found != metadata.end() && found->is_array()) {
    for (const Json& finalizer : *found) {
      if (finalizer.is_string()) finalizers.push_back(finalizer.get<std::string>());
    }
  }
  return finalizers;
}

bool OwnedBy(const Json& object, const std::string& uid) {
  const Json& metadata = kube::ObjectField(object, "metadata");
  auto refs = metadata.find("ownerReferences");
  if (refs == metadata.end() || !refs->is_array()) return false;
  for (const Json& ref : *refs) {
    if (kube::StringField(ref, "uid") == uid) return true;
  }
  return false;
}

Error NotFound(const ResourceType& type, std::string_view name) {
  return MakeError(ErrorCode::kNotFound,
                   "fake cluster: " + type.Describe() + " \"" + std::string(name) + "\" not found");
}

Error Conflict(const ResourceType& type, std::string_view name, const std::string& why) {
  return MakeError(ErrorCode::kConflict, "fake cluster: Operation cannot be fulfilled on " +
                                             type.Describe() + " \"" + std::string(name) +
                                             "\": " + why);
}

}  // namespace

const char* VerbName(Verb verb) {
  switch (verb) {
    case Verb::kGet:
      return "get";
    case Verb::kCreate:
      return "create";
    case Verb::kUpdate:
      return "update";
    case Verb::kPatch:
      return "patch";
    case Verb::kDelete:
      return "delete";
  }
  return "?";
}

FakeCluster::FakeCluster(const Clock* clock) : clock_(clock ? clock : &system_clock_) {}

FakeCluster::TypeState& FakeCluster::StateLocked(const ResourceType& type) const {
  auto [it, added] = types_.try_emplace(kube::CacheKey(type));
  if (added) {
    it->second.type = type;
    it->second.store = std::make_unique<kube::Store>();
  }
  return it->second;
}

kube::Store& FakeCluster::StoreFor(const ResourceType& type) {
  std::lock_guard lock(mutex_);
  return *StateLocked(type).store;
}

const kube::Store& FakeCluster::Of(const ResourceType& type) const {
  std::lock_guard lock(mutex_);
  return *StateLocked(type).store;
}

void FakeCluster::BeforeEachWrite(std::function<void(const WriteRecord&)> hook) {
  std::lock_guard lock(mutex_);
  hook_ = std::move(hook);
}

uint64_t FakeCluster::RequestCount() const {
  std::lock_guard lock(mutex_);
  uint64_t total = 0;
  for (const auto& [verb, count] : requests_) total += count;
  return total;
}

uint64_t FakeCluster::RequestCount(Verb verb) const {
  std::lock_guard lock(mutex_);
  auto found = requests_.find(verb);
  return found == requests_.end() ? 0 : found->second;
}

std::vector<WriteRecord> FakeCluster::Writes() const {
  std::lock_guard lock(mutex_);
  return writes_;
}

void FakeCluster::ResetCounters() {
  std::lock_guard lock(mutex_);
  requests_.clear();
  writes_.clear();
}

void FakeCluster::Begin(const WriteRecord& record) {
  std::function<void(const WriteRecord&)> hook;
  const std::thread::id self = std::this_thread::get_id();
  {
    std::lock_guard lock(mutex_);
    ++requests_[record.verb];
    if (record.verb == Verb::kGet || !hook_ || hook_threads_.contains(self)) return;
    hook = hook_;
    hook_threads_.insert(self);
  }
  // Removes this thread's mark even if the hook throws.
  struct Unmark {
    FakeCluster* fake;
    std::thread::id self;
    ~Unmark() {
      std::lock_guard lock(fake->mutex_);
      fake->hook_threads_.erase(fake->hook_threads_.find(self));
    }
  } unmark{this, self};
  hook(record);
}

std::string FakeCluster::NextResourceVersionLocked() { return std::to_string(++resource_version_); }

void FakeCluster::LogLocked(WriteRecord record, bool changed) {
  record.changed = changed;
  writes_.push_back(std::move(record));
}

Json FakeCluster::CommitLocked(TypeState& state, Json object) {
  if (kube::IsBeingDeleted(object) && Finalizers(object).empty()) {
    RemoveLocked(state, kube::ObjectKey(object), /*orphan=*/false);
  } else {
    state.store->Upsert(std::make_shared<const Json>(object));
  }
  return object;
}

void FakeCluster::RemoveLocked(TypeState& state, const std::string& key, bool orphan) {
  kube::ObjectPtr removed = state.store->Remove(key);
  if (!removed || orphan) return;
  // Background propagation: dependents go after their owner. A namespaced
  // owner has dependents only in its own namespace; a cluster-scoped one
  // may have them anywhere.
  const std::string uid = kube::Uid(*removed);
  const std::string owner_namespace = kube::Namespace(*removed);
  for (auto& [type_key, dependent_state] : types_) {
    for (const kube::ObjectPtr& candidate : dependent_state.store->List()) {
      if (!owner_namespace.empty() && kube::Namespace(*candidate) != owner_namespace) continue;
      if (!OwnedBy(*candidate, uid)) continue;
      (void)DeleteLocked(dependent_state, kube::ObjectKey(*candidate), {});
    }
  }
}

Status FakeCluster::DeleteLocked(TypeState& state, const std::string& key,
                                 const kube::DeleteOptions& options) {
  kube::ObjectPtr existing = state.store->Get(key);
  if (!existing) return NotFound(state.type, kube::SplitObjectKey(key).second);
  const bool orphan = options.propagation_policy == "Orphan";
  if (Finalizers(*existing).empty()) {
    RemoveLocked(state, key, orphan);
    return OkStatus();
  }
  if (kube::IsBeingDeleted(*existing)) return OkStatus();  // already marked: nothing moves
  Json marked = *existing;
  Json& metadata = marked["metadata"];
  metadata["deletionTimestamp"] = FormatTime(clock_->Now());
  metadata["deletionGracePeriodSeconds"] = 0;
  // As the API server's markAsDeleting: the first mark moves the generation.
  if (kube::IntField(metadata, "generation") > 0) {
    metadata["generation"] = kube::IntField(metadata, "generation") + 1;
  }
  metadata["resourceVersion"] = NextResourceVersionLocked();
  CommitLocked(state, std::move(marked));
  return OkStatus();
}

Result<Json> FakeCluster::Get(const ResourceType& type, std::string_view namespace_name,
                              std::string_view name, std::string_view subresource) {
  Begin(
      {Verb::kGet, type, std::string(namespace_name), std::string(name), std::string(subresource)});
  std::lock_guard lock(mutex_);
  if (!subresource.empty() && (subresource != "status" || !HasStatus(type))) {
    return NotFound(type, std::string(name) + "/" + std::string(subresource));
  }
  kube::ObjectPtr found =
      StateLocked(type).store->Get(kube::ObjectKey(type.namespaced ? namespace_name : "", name));
  if (!found) return NotFound(type, name);
  return *found;
}

Result<Json> FakeCluster::Create(const ResourceType& type, const Json& object) {
  const WriteRecord record{Verb::kCreate, type, type.namespaced ? kube::Namespace(object) : "",
                           kube::Name(object), ""};
  Begin(record);
  std::lock_guard lock(mutex_);
  if (!object.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "fake cluster: an object must be a JSON object");
  }
  Json created = object;
  Json& metadata = created["metadata"];
  if (!metadata.is_object()) metadata = Json::object();
  std::string name = kube::StringField(metadata, "name");
  if (name.empty() && !kube::StringField(metadata, "generateName").empty()) {
    char suffix[8];
    std::snprintf(suffix, sizeof suffix, "%05llu",
                  static_cast<unsigned long long>((resource_version_ + 1) % 100000));
    name = kube::StringField(metadata, "generateName") + suffix;
    metadata["name"] = name;
  }
  if (name.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "fake cluster: " + type.Describe() + ": metadata.name is required");
  }
  if (type.namespaced && record.namespace_name.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "fake cluster: " + type.Describe() + " \"" +
                                                      name + "\": metadata.namespace is required");
  }
  if (!type.namespaced) metadata.erase("namespace");
  TypeState& state = StateLocked(type);
  const std::string key = kube::ObjectKey(record.namespace_name, name);
  if (state.store->Get(key)) {
    return MakeError(ErrorCode::kAlreadyExists,
                     "fake cluster: " + type.Describe() + " \"" + name + "\" already exists");
  }
  if (!created.contains("apiVersion")) created["apiVersion"] = type.ApiVersion();
  if (!created.contains("kind")) created["kind"] = type.kind;
  // The server owns these; whatever the client sent is replaced.
  char uid[40];
  std::snprintf(uid, sizeof uid, "00000000-0000-4000-8000-%012llu",
                static_cast<unsigned long long>(++uids_));
  metadata["uid"] = uid;
  metadata["creationTimestamp"] = FormatTime(clock_->Now());
  metadata.erase("deletionTimestamp");
  metadata.erase("deletionGracePeriodSeconds");
  if (HasGeneration(type)) {
    metadata["generation"] = 1;
  } else {
    metadata.erase("generation");
  }
  // A type with a status subresource starts with none (its controller
  // writes it), except Nodes: a kubelet registers its node with its status.
  if (type.kind != "Node") created.erase("status");
  metadata["resourceVersion"] = NextResourceVersionLocked();
  Json stored = CommitLocked(state, std::move(created));
  WriteRecord logged = record;
  logged.name = name;
  LogLocked(logged, true);
  return stored;
}

Result<Json> FakeCluster::Update(const ResourceType& type, const Json& object) {
  const WriteRecord record{Verb::kUpdate, type, type.namespaced ? kube::Namespace(object) : "",
                           kube::Name(object), ""};
  Begin(record);
  std::lock_guard lock(mutex_);
  return WriteLocked(record, object, /*status_only=*/false);
}

Result<Json> FakeCluster::UpdateStatus(const ResourceType& type, const Json& object) {
  const WriteRecord record{Verb::kUpdate, type, type.namespaced ? kube::Namespace(object) : "",
                           kube::Name(object), "status"};
  Begin(record);
  std::lock_guard lock(mutex_);
  if (!HasStatus(type)) return NotFound(type, record.name + "/status");
  return WriteLocked(record, object, /*status_only=*/true);
}

Result<Json> FakeCluster::Patch(const ResourceType& type, std::string_view namespace_name,
                                std::string_view name, kube::PatchType patch_type,
                                const Json& patch, std::string_view subresource) {
  const WriteRecord record{Verb::kPatch, type, type.namespaced ? std::string(namespace_name) : "",
                           std::string(name), std::string(subresource)};
  Begin(record);
  std::lock_guard lock(mutex_);
  if (!subresource.empty() && (subresource != "status" || !HasStatus(type))) {
    return NotFound(type, record.name + "/" + record.subresource);
  }
  if (patch_type == kube::PatchType::kStrategicMerge) {
    return MakeError(ErrorCode::kInvalidArgument, "fake cluster: strategic merge not supported");
  }
  kube::ObjectPtr existing =
      StateLocked(type).store->Get(kube::ObjectKey(record.namespace_name, record.name));
  if (!existing) return NotFound(type, name);
  Json patched;
  try {
    if (patch_type == kube::PatchType::kMerge) {
      patched = *existing;
      patched.merge_patch(patch);
    } else {
      patched = existing->patch(patch);
    }
  } catch (const Json::other_error& e) {
    // nlohmann's failed `test` operation (501); the API server answers 422,
    // which the client reads as a conflict.
    if (e.id == 501) return Conflict(type, record.name, "test failed: " + std::string(e.what()));
    return MakeError(ErrorCode::kInvalidArgument,
                     "fake cluster: the patch does not apply: " + std::string(e.what()));
  } catch (const Json::exception& e) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "fake cluster: the patch does not apply: " + std::string(e.what()));
  }
  if (!patched.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "fake cluster: the patch replaced the object");
  }
  // A patch names its object by the URL; one that renames it is refused.
  if (kube::Name(patched) != record.name) {
    return MakeError(ErrorCode::kInvalidArgument, "fake cluster: a patch cannot change the name");
  }
  return WriteLocked(record, std::move(patched), subresource == "status");
}

Result<Json> FakeCluster::WriteLocked(const WriteRecord& record, Json proposed, bool status_only) {
  TypeState& state = StateLocked(record.type);
  kube::ObjectPtr existing_ptr =
      state.store->Get(kube::ObjectKey(record.namespace_name, record.name));
  if (!existing_ptr) return NotFound(record.type, record.name);
  const Json& existing = *existing_ptr;
  if (!proposed.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "fake cluster: an object must be a JSON object");
  }

  // Optimistic concurrency: checked before anything else, so a stale write
  // is refused even when it would change nothing.
  const std::string sent_version = kube::ResourceVersionOf(proposed);
  if (!sent_version.empty() && sent_version != kube::ResourceVersionOf(existing)) {
    return Conflict(record.type, record.name,
                    "the object has been modified; please apply your changes to the latest "
                    "version and try again");
  }
  const std::string sent_uid = kube::Uid(proposed);
  if (!sent_uid.empty() && sent_uid != kube::Uid(existing)) {
    return Conflict(record.type, record.name,
                    "Precondition failed: UID in object meta: " + sent_uid +
                        ", UID of the object: " + kube::Uid(existing));
  }

  Json result;
  if (status_only) {
    // The status subresource: everything but status comes from the store.
    result = existing;
    if (proposed.contains("status")) {
      result["status"] = proposed["status"];
    } else {
      result.erase("status");
    }
  } else {
    result = std::move(proposed);
    if (!HasStatus(record.type)) {
      result.erase("status");
    } else if (existing.contains("status")) {
      result["status"] = existing["status"];
    } else {
      result.erase("status");
    }
    Json& metadata = result["metadata"];
    if (!metadata.is_object()) metadata = Json::object();
    const Json& old_metadata = existing["metadata"];
    // Fields only the server writes keep their stored values.
    for (const char* field : {"uid", "creationTimestamp", "generation", "deletionTimestamp",
                              "deletionGracePeriodSeconds", "name", "namespace"}) {
      if (old_metadata.contains(field)) {
        metadata[field] = old_metadata[field];
      } else {
        metadata.erase(field);
      }
    }
    if (!result.contains("apiVersion")) result["apiVersion"] = existing["apiVersion"];
    if (!result.contains("kind")) result["kind"] = existing["kind"];
    if (kube::IsBeingDeleted(existing)) {
      const std::vector<std::string> before = Finalizers(existing);
      for (const std::string& finalizer : Finalizers(result)) {
        if (std::find(before.begin(), before.end(), finalizer) == before.end()) {
          return MakeError(ErrorCode::kInvalidArgument,
                           "fake cluster: no new finalizers can be added if the object is being "
                           "deleted (" +
                               finalizer + ")");
        }
      }
    }
    if (HasGeneration(record.type) && Desired(result) != Desired(existing)) {
      metadata["generation"] = kube::IntField(old_metadata, "generation") + 1;
    }
  }

  // The server's no-op detection: nothing changed, nothing is written.
  result["metadata"]["resourceVersion"] = kube::ResourceVersionOf(existing);
  if (result == existing) {
    LogLocked(record, false);
    return existing;
  }
  result["metadata"]["resourceVersion"] = NextResourceVersionLocked();
  Json stored = CommitLocked(state, std::move(result));
  LogLocked(record, true);
  return stored;
}

Status FakeCluster::Delete(const ResourceType& type, std::string_view namespace_name,
                           std::string_view name, const kube::DeleteOptions& options) {
  const WriteRecord record{Verb::kDelete, type, type.namespaced ? std::string(namespace_name) : "",
                           std::string(name), ""};
  Begin(record);
  std::lock_guard lock(mutex_);
  TypeState& state = StateLocked(type);
  const std::string key = kube::ObjectKey(record.namespace_name, record.name);
  kube::ObjectPtr existing = state.store->Get(key);
  if (!existing) return NotFound(type, name);
  if (!options.precondition_uid.empty() && options.precondition_uid != kube::Uid(*existing)) {
    return Conflict(type, name,
                    "Precondition failed: UID in precondition: " + options.precondition_uid +
                        ", UID in object meta: " + kube::Uid(*existing));
  }
  if (!options.precondition_resource_version.empty() &&
      options.precondition_resource_version != kube::ResourceVersionOf(*existing)) {
    return Conflict(type, name,
                    "Precondition failed: ResourceVersion in precondition: " +
                        options.precondition_resource_version +
                        ", ResourceVersion in object meta: " + kube::ResourceVersionOf(*existing));
  }
  const bool was_marked = kube::IsBeingDeleted(*existing) && !Finalizers(*existing).empty();
  Status deleted = DeleteLocked(state, key, options);
  if (deleted.ok()) LogLocked(record, !was_marked);
  return deleted;
}

}  // namespace ferry::testing
