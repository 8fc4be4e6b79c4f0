// Staging waves: which versions of one model every node must hold, and which
// one it serves, from every ModelVersion of that model. The plan is a pure
// function of what the caches show (the ModelNodes' spec and status, and the
// ModelVersions), so any reconcile of any version of the model computes the
// same plan, and a restarted operator continues the same waves.
//
// Rules:
// - A version is offered to a node only while it is kept (see KeptVersion) and
//   its ModelVersion's nodeSelector selects the node.
// - Admission is sticky: a node that lists a version keeps it. New nodes are
//   admitted in name order while fewer than staging.maxConcurrentNodes nodes
//   are still on their way (listed, neither Ready nor Failed), and only nodes
//   with a fresh heartbeat and healthy GPUs. A Failed node frees its slot (its
//   agent retries with backoff on its own).
// - `active` is the serving version (the latest promoted) wherever it is
//   listed. A version the node's status reports Active is never dropped,
//   whatever the ModelVersions say: a node never loses what it serves.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/api/model_node.h"
#include "lib/api/model_version.h"
#include "operator/fleet.h"

namespace ferry::operator_ {

// One version of the model that nodes should hold.
struct KeptVersion {
  std::string version;
  api::NodeVersionSource source;  // with the public key already read from its Secret
  api::ModelVersionRef ref;
  std::map<std::string, std::string> node_selector;
  int32_t max_concurrent_nodes = 4;
};

struct ModelPlanInput {
  std::string model;
  std::vector<KeptVersion> versions;
  std::optional<std::string> serving_version;  // the latest promoted one
};

// The model's entry for each node whose entry must change: nullopt removes the
// entry. Nodes whose entry is already right are absent. Each node once, in
// the order to write them: node names from a place of the model's own (a hash
// of its name), wrapping around. Several models rolling out at once then write
// different ModelNodes at any moment; all sweeping the list from its start
// would write the same nodes together, and every writer but the first would
// conflict and read again.
using NodeChanges = std::vector<std::pair<std::string, std::optional<api::NodeModel>>>;

NodeChanges PlanModel(const ModelPlanInput& input, const Fleet& fleet);

}  // namespace ferry::operator_
