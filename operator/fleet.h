// The nodes as the operator sees them in one reconcile: every node that runs
// an agent (has a ModelNode) and still has its Node, with the Node's labels
// for spec.nodeSelector and the two facts that decide whether a node may
// take part in a rollout: a heartbeat fresher than three agent periods, and
// healthy GPUs. Read once per reconcile from the informers' caches; a
// ModelNode that does not parse is left out and named, never guessed at.
//
// Every reconcile reads the whole fleet, so the parsed ModelNodes and the
// Nodes' labels are kept by the caches themselves (Store::Derived), made once
// per resourceVersion and shared, never copied: at a thousand nodes, parsing
// each ModelNode afresh on every reconcile was most of a reconcile's CPU.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lib/api/model_node.h"
#include "lib/kube/store.h"

namespace ferry::operator_ {

using NodeLabels = std::map<std::string, std::string>;

struct FleetNode {
  FleetNode(std::string name, std::shared_ptr<const api::ModelNode> parsed,
            std::shared_ptr<const NodeLabels> node_labels, api::TimePoint now);

  std::string name;
  // Both shared with the caches' derived values, which outlive any reconcile.
  std::shared_ptr<const api::ModelNode> parsed_model_node;
  std::shared_ptr<const NodeLabels> node_labels;
  const api::ModelNode& model_node;  // *parsed_model_node
  const NodeLabels& labels;          // the Node's: *node_labels
  bool heartbeat_fresh = false;
  bool gpus_healthy = false;

  bool Eligible() const { return heartbeat_fresh && gpus_healthy; }
  bool Matches(const std::map<std::string, std::string>& selector) const;
};

class Fleet {
 public:
  static Fleet Read(const kube::Store& model_nodes, const kube::Store& nodes, api::TimePoint now);

  const std::vector<FleetNode>& nodes() const { return nodes_; }  // sorted by name
  std::vector<const FleetNode*> Selected(const std::map<std::string, std::string>& selector) const;
  const FleetNode* Find(std::string_view name) const;  // by binary search
  // "<node>: <error>" for each ModelNode that could not be read.
  const std::vector<std::string>& unreadable() const { return unreadable_; }

 private:
  std::vector<FleetNode> nodes_;
  std::vector<std::string> unreadable_;
};

}  // namespace ferry::operator_
