#include "lib/api/workload.h"

namespace ferry::api {

DeploymentProgress ReadDeploymentProgress(const kube::Json& deployment) {
  // Lenient on purpose: a Deployment belongs to the user and to the API
  // server's schema, and an absent status field means zero.
  const kube::Json& spec = kube::ObjectField(deployment, "spec");
  const kube::Json& status = kube::ObjectField(deployment, "status");
  const kube::Json& metadata = kube::ObjectField(deployment, "metadata");
  DeploymentProgress progress;
  progress.desired = static_cast<int32_t>(kube::IntField(spec, "replicas", 1));
  progress.generation = kube::IntField(metadata, "generation");
  progress.observed_generation = kube::IntField(status, "observedGeneration");
  progress.replicas = static_cast<int32_t>(kube::IntField(status, "replicas"));
  progress.updated = static_cast<int32_t>(kube::IntField(status, "updatedReplicas"));
  progress.ready = static_cast<int32_t>(kube::IntField(status, "readyReplicas"));
  progress.available = static_cast<int32_t>(kube::IntField(status, "availableReplicas"));
  return progress;
}

}  // namespace ferry::api
