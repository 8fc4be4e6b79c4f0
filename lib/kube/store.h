// The informer's cache: the latest known state of each object, by key
// ("namespace/name"), plus secondary indexes (objects by label value, pods by
// node name, ...). Objects are stored as shared immutable JSON, so a reader
// keeps what it got for as long as it likes while the cache moves on, and
// nothing is copied per read. Thread-safe: one writer (the reflector), any
// number of readers.
//
// Derived values: a reader that turns objects into something costlier to
// make (a typed parse) can have the store keep the result for the object it
// came from, after controller-runtime's typed caches: computed once per
// stored object, shared by every reader, and dropped when the object is
// replaced or removed, so the memo never outgrows the cache and never serves
// an older resourceVersion.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "lib/kube/object.h"

namespace ferry::kube {

using ObjectPtr = std::shared_ptr<const Json>;

// Maps an object to the index values it is filed under (none, one or many).
using IndexFunction = std::function<std::vector<std::string>(const Json&)>;

// Files objects under the value of one label (absent label: not filed).
IndexFunction IndexByLabel(std::string label);
// Files objects under a string field given as a JSON pointer ("/spec/nodeName").
IndexFunction IndexByField(std::string json_pointer);

class Store {
 public:
  // Indexes must be added before the first object arrives.
  void AddIndex(const std::string& name, IndexFunction index);

  ObjectPtr Get(const std::string& key) const;
  std::vector<ObjectPtr> List() const;
  std::vector<std::string> Keys() const;
  size_t Size() const;
  // The objects filed under `value` in index `name` (empty for an unknown index).
  std::vector<ObjectPtr> ByIndex(const std::string& name, const std::string& value) const;

  // What `derive` makes of `object` (which should come from this store),
  // computed at most once while the store holds that very object under
  // `slot`, a name that tells one kind of derived value from another. Safe
  // beside the writer; `derive` runs outside the store's locks, and two
  // readers racing on a new object may both run it (one result is kept).
  template <typename T>
  std::shared_ptr<const T> Derived(const std::string& slot, const ObjectPtr& object,
                                   const std::function<T(const Json&)>& derive) const {
    return std::static_pointer_cast<const T>(
        DerivedErased(slot, object, [&](const Json& json) -> std::shared_ptr<const void> {
          return std::make_shared<const T>(derive(json));
        }));
  }

  // Writers (the reflector). Each returns the object it replaced or removed.
  ObjectPtr Upsert(ObjectPtr object);
  ObjectPtr Remove(const std::string& key);
  // Makes the store hold exactly `objects`; reports each change to `changed`
  // (old, new: old null for an added object, new null for a removed one).
  void Replace(
      std::vector<ObjectPtr> objects,
      const std::function<void(const ObjectPtr& old_object, const ObjectPtr& new_object)>& changed);

 private:
  void FileLocked(const std::string& key, const Json& object);
  void UnfileLocked(const std::string& key, const Json& object);
  std::shared_ptr<const void> DerivedErased(
      const std::string& slot, const ObjectPtr& object,
      const std::function<std::shared_ptr<const void>(const Json&)>& derive) const;
  void ForgetDerived(const std::string& key);

  struct Derivation {
    std::weak_ptr<const Json> source;  // the object it was made from
    std::shared_ptr<const void> value;
  };

  mutable std::shared_mutex mutex_;
  std::map<std::string, ObjectPtr> objects_;
  std::map<std::string, IndexFunction> index_functions_;
  // index name -> value -> keys
  std::map<std::string, std::map<std::string, std::set<std::string>>> indexes_;
  // key -> slot -> value; taken after mutex_ when both are held.
  mutable std::mutex derived_mutex_;
  mutable std::map<std::string, std::map<std::string, Derivation>> derived_;
};

}  // namespace ferry::kube
