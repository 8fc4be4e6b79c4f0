// The ModelVersion controller's reconcile: for one ModelVersion, read the
// cluster (the version's siblings of the same model, the nodes, the serving
// Deployment and its canary), decide the next step (rollout.h), and make the
// cluster so: ModelNode specs (node_plan.h), node labels, the canary and the
// stable Deployment, then the status, written last as a merge patch with a
// resourceVersion precondition so that a user's promote or abort written
// meanwhile is never lost (a conflict re-reads and decides again).
//
// Every write is derived from the cluster and skipped when the cluster
// already is so, so a reconcile may run any number of times and a restarted
// operator resumes where the status says. Reconciles of ModelVersions of the
// same model are serialised: they share the nodes' entry for the model.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "lib/common/result.h"
#include "lib/kube/controller.h"
#include "operator/reconcile_context.h"
#include "operator/rollout_metrics.h"

namespace ferry::operator_ {

// The types the reconciler reads; the operator's main watches each.
std::vector<kube::ResourceType> WatchedTypes();

class ModelVersionReconciler {
 public:
  // `metrics` may be null; it must outlive the reconciler.
  explicit ModelVersionReconciler(ReconcileContext context, RolloutMetrics* metrics = nullptr);

  Result<kube::Action> Reconcile(const std::string& key);

 private:
  std::mutex& LockFor(const std::string& model);

  ReconcileContext context_;
  RolloutMetrics* const metrics_;
  std::mutex locks_mutex_;
  std::map<std::string, std::unique_ptr<std::mutex>> model_locks_;  // guarded by locks_mutex_
};

}  // namespace ferry::operator_
