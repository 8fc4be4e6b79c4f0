#include "ctl/kubectl_steer.h"

namespace ferry::ctl {
namespace {

using api::Phase;

api::Json StatusPatch(api::Json status, const api::ModelVersion& mv) {
  return {{"metadata", {{"resourceVersion", mv.metadata.resource_version}}},
          {"status", std::move(status)}};
}

std::string Named(const api::ModelVersion& mv) { return "ModelVersion " + mv.metadata.Key(); }

Error Refuse(const std::string& message) { return MakeError(ErrorCode::kInvalidArgument, message); }

// Why a finished rollout takes no more promote or abort, or nullopt while it
// still runs (phases the operator has not set yet included).
std::optional<std::string> FinishedBecause(const api::ModelVersion& mv) {
  if (!mv.status.phase) return std::nullopt;
  const std::string is = Named(mv) + " is " + std::string(api::PhaseName(*mv.status.phase));
  switch (*mv.status.phase) {
    case Phase::kPromoted:
    case Phase::kDegraded:
      return is + ": version " + mv.spec.version + " is already the stable version";
    case Phase::kSuperseded:
      return is + ": a later version of " + mv.spec.model + " replaced it";
    case Phase::kRolledBack:
    case Phase::kFailed:
      return is +
             ": the rollout is over; apply a new ModelVersion (or delete and re-apply this "
             "one) to try again";
    default:
      return std::nullopt;
  }
}

}  // namespace

Result<SteerDecision> DecidePromote(const api::ModelVersion& mv, api::PromoteRequest request) {
  if (auto finished = FinishedBecause(mv)) return Refuse(*finished + "; nothing to promote");
  if (mv.status.phase == Phase::kAborted || mv.status.abort) {
    return Refuse(Named(mv) + " is aborted; run `kubectl ferry retry " + mv.metadata.name +
                  "` first (it restarts from step 0), then promote");
  }
  const std::string what = request == api::PromoteRequest::kFull ? "full" : "step";
  SteerDecision decision;
  decision.patch = StatusPatch({{"promote", what}}, mv);
  decision.summary = mv.metadata.Key() + ": promote " + what + " requested";
  return decision;
}

Result<SteerDecision> DecideAbort(const api::ModelVersion& mv) {
  if (auto finished = FinishedBecause(mv)) return Refuse(*finished + "; nothing to abort");
  SteerDecision decision;
  if (mv.status.phase == Phase::kAborted || mv.status.abort) {
    decision.summary = mv.metadata.Key() + ": already aborted";
    return decision;
  }
  decision.patch = StatusPatch({{"abort", true}}, mv);
  decision.summary =
      mv.metadata.Key() + ": abort requested; traffic goes back to the stable version";
  return decision;
}

Result<SteerDecision> DecideRetry(const api::ModelVersion& mv) {
  if (mv.status.phase == Phase::kAborted || mv.status.abort) {
    SteerDecision decision;
    decision.patch = StatusPatch({{"abort", nullptr}}, mv);
    decision.summary = mv.metadata.Key() + ": abort cleared; the rollout restarts from step 0";
    return decision;
  }
  if (mv.status.phase == Phase::kRolledBack || mv.status.phase == Phase::kFailed) {
    return Refuse(*FinishedBecause(mv));
  }
  return Refuse(Named(mv) + " is " +
                (mv.status.phase ? std::string(api::PhaseName(*mv.status.phase)) : "new") +
                ", not aborted; only an aborted rollout can be retried");
}

}  // namespace ferry::ctl
