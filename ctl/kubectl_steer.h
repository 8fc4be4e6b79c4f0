// What `kubectl ferry promote|abort|retry` write, decided from the
// ModelVersion as read: either the merge patch for its status subresource,
// or a refusal that tells the person what to do instead. Pure, so that every
// phase's answer is unit-tested without a cluster.
//
// Each patch carries the resourceVersion it was decided on: the API server
// refuses it (409) if the operator moved the rollout on meanwhile, and the
// caller reads again and decides again, so that a promote is never written
// onto a rollout that just finished.
#pragma once

#include <string>

#include "lib/api/model_version.h"
#include "lib/common/result.h"

namespace ferry::ctl {

struct SteerDecision {
  // Null when nothing needs writing (e.g. abort of an aborted rollout).
  api::Json patch;
  // What happened, for stdout: "ml/coder-1-1-0: promote step requested".
  std::string summary;
};

// {"status":{"promote":"step"|"full"}}. Refused (kInvalidArgument) when the
// rollout is finished (Promoted, Degraded, RolledBack, Superseded, Failed) or
// Aborted (retry it first).
Result<SteerDecision> DecidePromote(const api::ModelVersion& mv, api::PromoteRequest request);
// {"status":{"abort":true}}. Refused for finished rollouts, where the
// operator would ignore it; nothing to write when already aborted.
Result<SteerDecision> DecideAbort(const api::ModelVersion& mv);
// {"status":{"abort":null}} for an aborted rollout (or one whose abort the
// operator has not acted on yet): the operator restarts it from step 0.
// RolledBack and Failed cannot be retried in place: they need a new
// ModelVersion (or the same one deleted and applied again).
Result<SteerDecision> DecideRetry(const api::ModelVersion& mv);

}  // namespace ferry::ctl
