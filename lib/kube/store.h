// The informer's cache: the latest known state of each object, by key
// ("namespace/name"), plus secondary indexes (objects by label value, pods by
// node name, ...). Objects are stored as shared immutable JSON, so a reader
// keeps what it got for as long as it likes while the cache moves on, and
// nothing is copied per read. Thread-safe: one writer (the reflector), any
// number of readers.
#pragma once

#include <functional>
#include <map>
#include <memory>
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

  mutable std::shared_mutex mutex_;
  std::map<std::string, ObjectPtr> objects_;
  std::map<std::string, IndexFunction> index_functions_;
  // index name -> value -> keys
  std::map<std::string, std::map<std::string, std::set<std::string>>> indexes_;
};

}  // namespace ferry::kube
