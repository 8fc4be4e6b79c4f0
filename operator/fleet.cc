#include "operator/fleet.h"

#include <algorithm>

namespace ferry::operator_ {

bool FleetNode::Matches(const std::map<std::string, std::string>& selector) const {
  for (const auto& [key, value] : selector) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

Fleet Fleet::Read(const kube::Store& model_nodes, const kube::Store& nodes, api::TimePoint now) {
  Fleet fleet;
  for (const kube::ObjectPtr& object : model_nodes.List()) {
    const std::string name = kube::Name(*object);
    const kube::ObjectPtr node = nodes.Get(name);
    if (!node) continue;  // the Node is gone: no target, whatever its ModelNode says
    auto parsed = api::ParseModelNode(*object);
    if (!parsed) {
      fleet.unreadable_.push_back(name + ": " + parsed.error().message);
      continue;
    }
    FleetNode entry;
    entry.name = name;
    entry.model_node = std::move(*parsed);
    entry.labels = kube::Labels(*node);
    entry.heartbeat_fresh = entry.model_node.HeartbeatFresh(now);
    entry.gpus_healthy = entry.model_node.GpusHealthy();
    fleet.nodes_.push_back(std::move(entry));
  }
  std::sort(fleet.nodes_.begin(), fleet.nodes_.end(),
            [](const FleetNode& a, const FleetNode& b) { return a.name < b.name; });
  return fleet;
}

std::vector<const FleetNode*> Fleet::Selected(
    const std::map<std::string, std::string>& selector) const {
  std::vector<const FleetNode*> selected;
  for (const FleetNode& node : nodes_) {
    if (node.Matches(selector)) selected.push_back(&node);
  }
  return selected;
}

const FleetNode* Fleet::Find(std::string_view name) const {
  for (const FleetNode& node : nodes_) {
    if (node.name == name) return &node;
  }
  return nullptr;
}

}  // namespace ferry::operator_
