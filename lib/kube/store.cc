#include "lib/kube/store.h"

#include <mutex>

namespace ferry::kube {

IndexFunction IndexByLabel(std::string label) {
  return [label = std::move(label)](const Json& object) -> std::vector<std::string> {
    const auto labels = Labels(object);
    const auto found = labels.find(label);
    if (found == labels.end()) return {};
    return {found->second};
  };
}

IndexFunction IndexByField(std::string json_pointer) {
  return
      [pointer = Json::json_pointer(json_pointer)](const Json& object) -> std::vector<std::string> {
        if (!object.contains(pointer)) return {};
        const Json& value = object.at(pointer);
        if (!value.is_string()) return {};
        return {value.get<std::string>()};
      };
}

void Store::AddIndex(const std::string& name, IndexFunction index) {
  std::unique_lock lock(mutex_);
  index_functions_[name] = std::move(index);
  auto& filed = indexes_[name];
  filed.clear();
  for (const auto& [key, object] : objects_) {
    for (std::string& value : index_functions_[name](*object)) filed[value].insert(key);
  }
}

ObjectPtr Store::Get(const std::string& key) const {
  std::shared_lock lock(mutex_);
  const auto found = objects_.find(key);
  return found == objects_.end() ? nullptr : found->second;
}

std::vector<ObjectPtr> Store::List() const {
  std::shared_lock lock(mutex_);
  std::vector<ObjectPtr> all;
  all.reserve(objects_.size());
  for (const auto& [key, object] : objects_) all.push_back(object);
  return all;
}

std::vector<std::string> Store::Keys() const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> keys;
  keys.reserve(objects_.size());
  for (const auto& [key, object] : objects_) keys.push_back(key);
  return keys;
}

size_t Store::Size() const {
  std::shared_lock lock(mutex_);
  return objects_.size();
}

std::vector<ObjectPtr> Store::ByIndex(const std::string& name, const std::string& value) const {
  std::shared_lock lock(mutex_);
  std::vector<ObjectPtr> found;
  const auto index = indexes_.find(name);
  if (index == indexes_.end()) return found;
  const auto keys = index->second.find(value);
  if (keys == index->second.end()) return found;
  for (const std::string& key : keys->second) found.push_back(objects_.at(key));
  return found;
}

std::shared_ptr<const void> Store::DerivedErased(
    const std::string& slot, const ObjectPtr& object,
    const std::function<std::shared_ptr<const void>(const Json&)>& derive) const {
  const std::string key = ObjectKey(*object);
  {
    std::lock_guard lock(derived_mutex_);
    const auto slots = derived_.find(key);
    if (slots != derived_.end()) {
      const auto found = slots->second.find(slot);
      // `object` is alive (the caller holds it), so a source that is still
      // alive at the same address is that very object.
      if (found != slots->second.end() && found->second.source.lock() == object) {
        return found->second.value;
      }
    }
  }
  std::shared_ptr<const void> value = derive(*object);
  std::shared_lock lock(mutex_);
  const auto current = objects_.find(key);
  // Kept only for the object the store holds now: an older one's value would
  // never be asked for again, and would outlive its eviction.
  if (current != objects_.end() && current->second == object) {
    std::lock_guard derived_lock(derived_mutex_);
    derived_[key][slot] = Derivation{object, value};
  }
  return value;
}

void Store::ForgetDerived(const std::string& key) {
  std::lock_guard lock(derived_mutex_);
  derived_.erase(key);
}

void Store::FileLocked(const std::string& key, const Json& object) {
  for (const auto& [name, index] : index_functions_) {
    for (std::string& value : index(object)) indexes_[name][value].insert(key);
  }
}

void Store::UnfileLocked(const std::string& key, const Json& object) {
  for (const auto& [name, index] : index_functions_) {
    auto& filed = indexes_[name];
    for (const std::string& value : index(object)) {
      const auto keys = filed.find(value);
      if (keys == filed.end()) continue;
      keys->second.erase(key);
      if (keys->second.empty()) filed.erase(keys);
    }
  }
}

ObjectPtr Store::Upsert(ObjectPtr object) {
  const std::string key = ObjectKey(*object);
  std::unique_lock lock(mutex_);
  ObjectPtr& slot = objects_[key];
  ObjectPtr old = std::move(slot);
  if (old) UnfileLocked(key, *old);
  FileLocked(key, *object);
  slot = std::move(object);
  ForgetDerived(key);
  return old;
}

ObjectPtr Store::Remove(const std::string& key) {
  std::unique_lock lock(mutex_);
  const auto found = objects_.find(key);
  if (found == objects_.end()) return nullptr;
  ObjectPtr old = std::move(found->second);
  objects_.erase(found);
  UnfileLocked(key, *old);
  ForgetDerived(key);
  return old;
}

void Store::Replace(std::vector<ObjectPtr> objects,
                    const std::function<void(const ObjectPtr&, const ObjectPtr&)>& changed) {
  std::map<std::string, ObjectPtr> fresh;
  for (ObjectPtr& object : objects) {
    std::string key = ObjectKey(*object);
    fresh[std::move(key)] = std::move(object);
  }
  std::vector<std::pair<ObjectPtr, ObjectPtr>> changes;
  {
    std::unique_lock lock(mutex_);
    for (const auto& [key, old] : objects_) {
      if (!fresh.contains(key)) changes.emplace_back(old, nullptr);
    }
    for (const auto& [key, object] : fresh) {
      const auto found = objects_.find(key);
      ObjectPtr old = found == objects_.end() ? nullptr : found->second;
      // An object whose resourceVersion did not move has not changed.
      if (old && ResourceVersionOf(*old) == ResourceVersionOf(*object)) continue;
      changes.emplace_back(old, object);
    }
    for (const auto& [old, object] : changes) ForgetDerived(ObjectKey(old ? *old : *object));
    objects_ = std::move(fresh);
    for (auto& [name, filed] : indexes_) filed.clear();
    for (const auto& [key, object] : objects_) FileLocked(key, *object);
  }
  // Outside the lock, so a handler may read the store.
  for (const auto& [old, object] : changes) changed(old, object);
}

}  // namespace ferry::kube
