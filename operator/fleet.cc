#include "operator/fleet.h"

#include <algorithm>

#include "lib/common/result.h"

namespace ferry::operator_ {

namespace {

// Slots of the caches' derived values (see Store::Derived).
const std::string kParsedModelNode = "ferry.dev/operator:ModelNode";
const std::string kNodeLabels = "ferry.dev/operator:labels";

using ParsedModelNode = Result<std::shared_ptr<const api::ModelNode>>;

}  // namespace

FleetNode::FleetNode(std::string name_in, std::shared_ptr<const api::ModelNode> parsed,
                     std::shared_ptr<const NodeLabels> labels_in, api::TimePoint now)
    : name(std::move(name_in)),
      parsed_model_node(std::move(parsed)),
      node_labels(std::move(labels_in)),
      model_node(*parsed_model_node),
      labels(*node_labels),
      heartbeat_fresh(model_node.HeartbeatFresh(now)),
      gpus_healthy(model_node.GpusHealthy()) {}

bool FleetNode::Matches(const std::map<std::string, std::string>& selector) const {
  for (const auto& [key, value] : selector) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

Fleet Fleet::Read(const kube::Store& model_nodes, const kube::Store& nodes, api::TimePoint now) {
  Fleet fleet;
  // The store lists by key, which for a cluster-scoped object is its name:
  // already in the order nodes() promises.
  const std::vector<kube::ObjectPtr> objects = model_nodes.List();
  fleet.nodes_.reserve(objects.size());
  for (const kube::ObjectPtr& object : objects) {
    const std::string name = kube::Name(*object);
    const kube::ObjectPtr node = nodes.Get(name);
    if (!node) continue;  // the Node is gone: no target, whatever its ModelNode says
    const std::shared_ptr<const ParsedModelNode> parsed = model_nodes.Derived<ParsedModelNode>(
        kParsedModelNode, object, [](const kube::Json& json) -> ParsedModelNode {
          auto result = api::ParseModelNode(json);
          if (!result) return result.error();
          return std::make_shared<const api::ModelNode>(std::move(*result));
        });
    if (!*parsed) {
      fleet.unreadable_.push_back(name + ": " + parsed->error().message);
      continue;
    }
    std::shared_ptr<const NodeLabels> labels = nodes.Derived<NodeLabels>(
        kNodeLabels, node, [](const kube::Json& json) { return kube::Labels(json); });
    fleet.nodes_.emplace_back(name, **parsed, std::move(labels), now);
  }
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
  auto it =
      std::lower_bound(nodes_.begin(), nodes_.end(), name,
                       [](const FleetNode& node, std::string_view n) { return node.name < n; });
  return it != nodes_.end() && it->name == name ? &*it : nullptr;
}

}  // namespace ferry::operator_
