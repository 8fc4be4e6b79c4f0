// What the operator reads of the serving workload: how far a Deployment's
// rollout has got, from its status as the Deployment controller reports it.
// A Deployment counts as rolled out only when the controller has seen its
// latest spec (observedGeneration) and every replica runs the latest
// template and is available, so a just-written change never reads as done.
#pragma once

#include <cstdint>

#include "lib/kube/object.h"

namespace ferry::api {

struct DeploymentProgress {
  int32_t desired = 1;  // spec.replicas (the API's default is 1)
  int64_t generation = 0;
  int64_t observed_generation = 0;
  int32_t replicas = 0;  // pods of every template
  int32_t updated = 0;   // pods of the latest template
  int32_t ready = 0;
  int32_t available = 0;

  bool Observed() const { return observed_generation >= generation; }
  // Every desired replica is on the latest template and available, and no
  // pod of an older template is left.
  bool RolledOut() const {
    return Observed() && updated >= desired && available >= desired && replicas <= desired;
  }
};

DeploymentProgress ReadDeploymentProgress(const kube::Json& deployment);

}  // namespace ferry::api
