#include "operator/node_plan.h"

#include <algorithm>
#include <cstdint>
#include <set>

namespace ferry::operator_ {

namespace {

bool InFlight(const FleetNode& node, std::string_view model, const std::string& version) {
  const api::HeldVersion* held = node.model_node.status.Find(model, version);
  if (!held) return true;
  return held->state != api::VersionState::kReady && held->state != api::VersionState::kActive &&
         held->state != api::VersionState::kFailed;
}

api::NodeVersion EntryFor(const KeptVersion& kept) {
  return {.version = kept.version, .source = kept.source, .model_version_ref = kept.ref};
}

// FNV-1a: the same place for a model in every process and on every build.
uint64_t PlaceOf(std::string_view model) {
  uint64_t hash = 14695981039346656037ULL;
  for (const char c : model) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

}  // namespace

NodeChanges PlanModel(const ModelPlanInput& input, const Fleet& fleet) {
  // Which nodes list each kept version after this plan: those that list it now
  // and are still selected, plus the wave's newcomers.
  std::map<std::string, std::set<std::string>> listed;  // version -> nodes
  for (const KeptVersion& kept : input.versions) {
    std::set<std::string>& nodes = listed[kept.version];
    int in_flight = 0;
    std::vector<const FleetNode*> candidates;
    for (const FleetNode* node : fleet.Selected(kept.node_selector)) {
      const api::NodeModel* entry = node->model_node.spec.Find(input.model);
      if (entry && entry->Find(kept.version)) {
        nodes.insert(node->name);
        if (InFlight(*node, input.model, kept.version)) ++in_flight;
      } else if (node->Eligible()) {
        candidates.push_back(node);
      }
    }
    for (const FleetNode* node : candidates) {
      if (in_flight >= kept.max_concurrent_nodes) break;
      nodes.insert(node->name);
      // Already held (e.g. listed by an earlier ModelVersion): no slot used.
      if (InFlight(*node, input.model, kept.version)) ++in_flight;
    }
  }

  NodeChanges changes;
  const std::vector<FleetNode>& nodes = fleet.nodes();
  const size_t start = nodes.empty() ? 0 : PlaceOf(input.model) % nodes.size();
  for (size_t i = 0; i < nodes.size(); ++i) {
    const FleetNode& node = nodes[(start + i) % nodes.size()];
    const api::NodeModel* current = node.model_node.spec.Find(input.model);
    api::NodeModel wanted;
    wanted.model = input.model;
    for (const KeptVersion& kept : input.versions) {
      if (listed[kept.version].contains(node.name)) wanted.versions.push_back(EntryFor(kept));
    }
    // Never drop what the node serves, even when nothing asks for it any more.
    for (const api::HeldVersion& held : node.model_node.status.versions) {
      if (held.model != input.model || held.state != api::VersionState::kActive) continue;
      if (wanted.Find(held.version)) continue;
      if (current && current->Find(held.version)) {
        wanted.versions.push_back(*current->Find(held.version));
      }
    }
    std::sort(
        wanted.versions.begin(), wanted.versions.end(),
        [](const api::NodeVersion& a, const api::NodeVersion& b) { return a.version < b.version; });
    if (input.serving_version && wanted.Find(*input.serving_version)) {
      wanted.active = input.serving_version;
    } else if (current && current->active && wanted.Find(*current->active)) {
      wanted.active = current->active;
    }
    if (wanted.versions.empty()) {
      if (current) changes.emplace_back(node.name, std::nullopt);
    } else if (!current || !(*current == wanted)) {
      changes.emplace_back(node.name, std::move(wanted));
    }
  }
  return changes;
}

}  // namespace ferry::operator_
