// An in-memory API server for reconciler unit tests: the write semantics of
// the real one, so that a test on the fake means what it would mean on a
// cluster (tests/lib/kube/object_writer_cases.h runs the same cases on both).
//
// What it keeps, as the API server does:
//   - metadata.resourceVersion from one cluster-wide counter, moved by every
//     write that changes an object; a write that changes nothing (an
//     identical Update, an empty patch) keeps it, as the server's no-op
//     detection does;
//   - uid and creationTimestamp set on Create; generation (on the types that
//     have one: not core/v1, Leases or Events) starts at 1 and moves only
//     when something other than metadata and status changed;
//   - the status subresource on every type that has a status (not
//     ConfigMaps, Secrets, Leases, Events, ...): Create drops the status
//     (but a Node's), Update keeps the stored one, UpdateStatus and status
//     patches change nothing else;
//   - optimistic concurrency: a write carrying a stale resourceVersion is
//     kConflict; one without is unconditional;
//   - finalizers: Delete of an object with finalizers only sets its
//     deletionTimestamp; the write that removes the last one removes it;
//   - background garbage collection: a removed object takes with it the
//     objects of its namespace whose ownerReferences name its uid, and so on
//     ("Orphan" propagation keeps them).
// It does not validate schemas, run admission or CEL rules, or implement
// strategic merge (kInvalidArgument) or server-side apply.
//
// The stores of StoreFor/Of are the fake's state itself, so a reconciler
// reads them as it reads an informer's cache, always up to date (no watch
// lag; tests of lag drive stores by hand). Thread-safe: one mutex; the
// BeforeEachWrite hook runs outside it and may call the fake.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lib/common/clock.h"
#include "lib/kube/caches.h"
#include "lib/kube/object_writer.h"
#include "lib/kube/store.h"

namespace ferry::testing {

enum class Verb { kGet, kCreate, kUpdate, kPatch, kDelete };
const char* VerbName(Verb verb);

struct WriteRecord {
  Verb verb = Verb::kCreate;
  kube::ResourceType type;
  std::string namespace_name;
  std::string name;
  std::string subresource;  // "status" for UpdateStatus and status patches
  // In Writes(): whether the stored state moved (false for a no-op write or a
  // delete that only set deletionTimestamp again). Always false in the hook.
  bool changed = false;
};

class FakeCluster final : public kube::ObjectWriter, public kube::Caches {
 public:
  // Timestamps (creation, deletion) are read from `clock`, which must
  // outlive the fake; null: the system clock.
  explicit FakeCluster(const Clock* clock = nullptr);
  FakeCluster(const FakeCluster&) = delete;
  FakeCluster& operator=(const FakeCluster&) = delete;

  Result<kube::Json> Get(const kube::ResourceType& type, std::string_view namespace_name,
                         std::string_view name, std::string_view subresource = "") override;
  Result<kube::Json> Create(const kube::ResourceType& type, const kube::Json& object) override;
  Result<kube::Json> Update(const kube::ResourceType& type, const kube::Json& object) override;
  Result<kube::Json> UpdateStatus(const kube::ResourceType& type,
                                  const kube::Json& object) override;
  Result<kube::Json> Patch(const kube::ResourceType& type, std::string_view namespace_name,
                           std::string_view name, kube::PatchType patch_type,
                           const kube::Json& patch, std::string_view subresource = "") override;
  Status Delete(const kube::ResourceType& type, std::string_view namespace_name,
                std::string_view name, const kube::DeleteOptions& options = {}) override;

  // The objects of `type`, created empty on first use: add indexes to it
  // before the first object of that type is written. It is the fake's state
  // itself: an Upsert into it bypasses every rule above (seeding only).
  kube::Store& StoreFor(const kube::ResourceType& type);
  const kube::Store& Of(const kube::ResourceType& type) const override;

  // Called before each write request is applied (not for Get), outside the
  // fake's lock, so a test can slip a conflicting write in between a
  // reconciler's read and its write. Writes the hook makes do not call it
  // again. Replaces any earlier hook; an empty function removes it.
  void BeforeEachWrite(std::function<void(const WriteRecord&)> hook);

  // Requests received, successful or not, the hook's included.
  uint64_t RequestCount() const;
  uint64_t RequestCount(Verb verb) const;
  // The write requests that succeeded, in order.
  std::vector<WriteRecord> Writes() const;
  // Forgets the counts and the log (not the objects).
  void ResetCounters();

 private:
  struct TypeState {
    kube::ResourceType type;
    std::unique_ptr<kube::Store> store;
  };

  // Counts the request and runs the hook (unless called from within it).
  void Begin(const WriteRecord& record);
  TypeState& StateLocked(const kube::ResourceType& type) const;
  std::string NextResourceVersionLocked();
  // Stores `object` (whose metadata is already final) or, when it is being
  // deleted and has no finalizers left, removes it.
  kube::Json CommitLocked(TypeState& state, kube::Json object);
  // Removes the object and, recursively, its dependents.
  void RemoveLocked(TypeState& state, const std::string& key, bool orphan);
  // A delete as the garbage collector or a user sends it.
  Status DeleteLocked(TypeState& state, const std::string& key, const kube::DeleteOptions& options);
  // The shared end of Update, UpdateStatus and Patch: `proposed` is the
  // whole object the client wants; `status_only` picks the subresource.
  Result<kube::Json> WriteLocked(const WriteRecord& record, kube::Json proposed, bool status_only);
  void LogLocked(WriteRecord record, bool changed);

  const Clock* const clock_;
  const SystemClock system_clock_;

  mutable std::mutex mutex_;
  mutable std::map<std::string, TypeState> types_;  // by CacheKey; guarded by mutex_
  uint64_t resource_version_ = 1000;                // guarded by mutex_
  uint64_t uids_ = 0;                               // guarded by mutex_
  std::function<void(const WriteRecord&)> hook_;    // guarded by mutex_
  std::multiset<std::thread::id> hook_threads_;     // threads inside the hook; guarded by mutex_
  std::map<Verb, uint64_t> requests_;               // guarded by mutex_
  std::vector<WriteRecord> writes_;                 // guarded by mutex_
};

}  // namespace ferry::testing
