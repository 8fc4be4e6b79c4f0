#include "operator/rollout.h"

#include <algorithm>

#include "lib/common/utc_time.h"
#include "operator/naming.h"
#include "operator/workload.h"

namespace ferry::operator_ {

namespace {

using api::Phase;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr milliseconds kStagingPoll = seconds(15);
constexpr milliseconds kProgressPoll = seconds(10);
// A rollout blocked on something the user must create looks again this
// seldom; the watch on Deployments and Secrets wakes it sooner.
constexpr milliseconds kBlockedPoll = seconds(300);

class Machine {
 public:
  Machine(const api::ModelVersion& mv, const Observed& observed)
      : mv_(mv), observed_(observed), now_(observed.now) {
    decision_.status = mv.status;
    if (!decision_.status.phase) decision_.status = InitialStatus();
    if (const api::CanaryStrategy* canary = mv.spec.canary()) {
      steps_ = canary->steps;
      deadline_ = seconds(canary->progress_deadline_seconds);
      fixed_ = canary->capacity == api::Capacity::kFixed;
    }
    if (const api::BlueGreenStrategy* blue_green = mv.spec.blue_green()) {
      blue_green_ = blue_green;
      deadline_ = seconds(blue_green->progress_deadline_seconds);
    }
  }

  Decision Run() {
    api::ModelVersionStatus& s = decision_.status;
    s.observed_generation = mv_.metadata.generation;
    s.nodes = observed_.nodes;
    Step();
    UpdateConditions();
    return std::move(decision_);
  }

 private:
  Phase phase() const { return *decision_.status.phase; }
  size_t step() const {
    return static_cast<size_t>(std::max(0, decision_.status.current_step.value_or(0)));
  }
  int32_t CurrentCanaryReplicas() const { return observed_.canary ? observed_.canary->desired : 0; }
  int32_t CanaryPods() const { return observed_.canary ? observed_.canary->replicas : 0; }
  int32_t StablePods() const { return observed_.stable ? observed_.stable->replicas : 0; }
  // The user's Deployment's replicas as the user set them: under fixed
  // capacity, those it had before pods were traded away.
  int32_t TotalReplicas() const {
    if (fixed_ && observed_.fixed_replicas) return *observed_.fixed_replicas;
    return observed_.stable ? observed_.stable->desired : 0;
  }
  // The first step past the last: the user's Deployment moves to the version.
  size_t FinalStep() const {
    return blue_green_ ? static_cast<size_t>(kBlueGreenMoveStable) : steps_.size();
  }

  // capacity: fixed — the canary replicas to set now on the way to `wanted`,
  // and (in stable_scale) the user's Deployment's. A stable pod goes before
  // a canary pod comes and a canary pod goes before a stable pod comes back,
  // counting pods the Deployment controllers report, so that stable and
  // canary pods together never exceed the total.
  int32_t Trade(int32_t wanted) {
    const int32_t total = TotalReplicas();
    StableScale scale;
    scale.replicas = std::max(0, total - std::max(wanted, CanaryPods()));
    scale.original = total;
    decision_.stable_scale = scale;
    return std::clamp(total - StablePods(), 0, wanted);
  }

  // After a fixed-capacity rollout ended without promotion: the canary goes
  // first, then the stable pods come back, then the annotation goes.
  void RestoreFixedCapacity() {
    decision_.canary_replicas = 0;
    if (!fixed_ || !observed_.fixed_replicas || !observed_.stable) return;
    if (observed_.other_rollout_running) return;
    const int32_t total = *observed_.fixed_replicas;
    StableScale scale;
    scale.replicas = std::max(0, total - CanaryPods());
    if (CanaryPods() > 0 || observed_.stable->desired != total) {
      scale.original = total;
      decision_.requeue_after = kProgressPoll;
    }
    decision_.stable_scale = scale;
  }

  // Blue-green's Services: `version` takes the active Service's traffic, and
  // the preview Service shows this version.
  void RouteActiveTo(const std::string& version) {
    if (!blue_green_) return;
    decision_.active_service_version = version;
    decision_.preview_service_version = mv_.spec.version;
  }

  void Step() {
    api::ModelVersionStatus& s = decision_.status;
    const Phase current = phase();
    if (current == Phase::kSuperseded) return;
    if (current == Phase::kRolledBack) {
      RestoreFixedCapacity();
      return;
    }
    if (current == Phase::kFailed && !IsResumableFailure(s)) {
      decision_.canary_replicas = CurrentCanaryReplicas();  // left in place for inspection
      return;
    }
    if (observed_.superseded_by) {
      if (current == Phase::kPromoted || current == Phase::kDegraded) {
        superseded_after_promotion_ = true;
      } else {
        ReturnTrafficToStable();
      }
      Transition(Phase::kSuperseded, "Superseded", *observed_.superseded_by);
      return;
    }
    if (current == Phase::kPromoted || current == Phase::kDegraded) {
      const Phase serving = s.nodes->failed > 0 ? Phase::kDegraded : Phase::kPromoted;
      if (serving != current) {
        Transition(serving, serving == Phase::kDegraded ? "NodesFailed" : "NodesRecovered",
                   Summary(), serving == Phase::kDegraded);
      }
      return;
    }
    if (observed_.blocked) {
      const auto& [reason, message] = *observed_.blocked;
      decision_.canary_replicas = CurrentCanaryReplicas();
      failure_reason_ = reason;
      if (current != Phase::kFailed || s.message != message) {
        Transition(Phase::kFailed, reason, message, /*warning=*/true);
      }
      decision_.requeue_after = kBlockedPoll;
      return;
    }
    if (current == Phase::kFailed) {  // resumable, and the cause is gone
      RestartFromStepZero("Resumed", "the missing object exists now: the rollout resumes");
      return;
    }
    if (s.abort) {
      if (current != Phase::kAborted) {
        s.canary_weight = 0;
        s.promote.reset();
        ReturnTrafficToStable();
        RestoreFixedCapacity();
        Transition(Phase::kAborted, "Aborted",
                   "aborted through status.abort; all traffic on " + StableText() +
                       "; clear status.abort to start again from step 0",
                   /*warning=*/true);
      } else {
        RestoreFixedCapacity();
      }
      return;
    }
    if (current == Phase::kAborted) {
      RestartFromStepZero("Retry",
                          "status.abort was cleared: the rollout starts again from step 0");
      return;
    }
    if (current == Phase::kPending || current == Phase::kStaging) {
      StageOrStart();
      return;
    }
    if (!mv_.spec.serving) {
      Promote("the version is staged and there is no serving workload to move");
      return;
    }
    if (observed_.canary_node_failure) {
      Fail("CanaryNodeUnhealthy", *observed_.canary_node_failure);
      return;
    }
    if (blue_green_ && observed_.stable_version && step() < FinalStep()) {
      RunBlueGreenStep();
      return;
    }
    // A canary shares the active Service with the stable pods: no version
    // pin (a blue-green rollout of the model may have left one) may hide it.
    if (mv_.spec.serving->service && !blue_green_) decision_.active_service_version = "";
    if (s.promote == api::PromoteRequest::kFull && !blue_green_) {
      s.promote.reset();
      s.current_step = static_cast<int32_t>(steps_.size());
      s.step_start_time = now_;
      Transition(Phase::kProgressing, "PromoteFull",
                 "status.promote=full: skipping the remaining steps");
      decision_.requeue_after = milliseconds(0);
      return;
    }
    if (!observed_.stable_version || step() >= steps_.size()) {
      MoveStable();
      return;
    }
    RunStep();
  }

  void StageOrStart() {
    api::ModelVersionStatus& s = decision_.status;
    const bool staged = s.nodes->ready >= mv_.spec.staging.min_ready_nodes;
    if (!staged) {
      if (observed_.staging_failure) {
        Fail("StagingFailed", *observed_.staging_failure);
        return;
      }
      if (phase() != Phase::kStaging) {
        Transition(Phase::kStaging, "Staging", Summary());
      } else {
        s.message = Summary();
      }
      decision_.requeue_after = kStagingPoll;
      return;
    }
    s.current_step = 0;
    s.step_start_time = now_;
    if (!s.stable_version && observed_.stable_version) s.stable_version = observed_.stable_version;
    Transition(Phase::kProgressing, "Staged", Summary() + "; starting the rollout");
    decision_.requeue_after = milliseconds(0);
  }

  void RunStep() {
    api::ModelVersionStatus& s = decision_.status;
    const size_t i = step();
    const api::CanaryStep& current = steps_[i];
    const int32_t wanted = CanaryReplicas(TotalReplicas(), WeightAt(steps_, i));
    decision_.canary_replicas = fixed_ ? Trade(wanted) : wanted;
    const bool promoted_step = s.promote == api::PromoteRequest::kStep;
    if (promoted_step) {
      s.promote.reset();
      if (auto* weight = std::get_if<api::SetWeightStep>(&current))
        s.canary_weight = weight->weight;
      Advance("PromoteStep", "status.promote=step ended step " + std::to_string(i));
      return;
    }
    const auto started = s.step_start_time.value_or(now_);
    if (auto* set_weight = std::get_if<api::SetWeightStep>(&current)) {
      bool available = wanted == 0 ? !observed_.canary || observed_.canary->desired == 0
                                   : observed_.canary && observed_.canary->desired == wanted &&
                                         observed_.canary->RolledOut();
      if (fixed_) available = available && StablePods() <= TotalReplicas() - wanted;
      if (available) {
        s.canary_weight = set_weight->weight;
        const int32_t pods = fixed_ ? TotalReplicas() : TotalReplicas() + wanted;
        Advance("WeightSet", "step " + std::to_string(i) + ": " +
                                 std::to_string(set_weight->weight) + "% of traffic (" +
                                 std::to_string(wanted) + " of " + std::to_string(pods) +
                                 " pods) on " + mv_.spec.version);
        return;
      }
      AwaitNewPods(
          wanted, "canary", " at step " + std::to_string(i),
          "step " + std::to_string(i) + ": waiting for " + std::to_string(wanted) + " canary pods");
      return;
    }
    if (auto* pause = std::get_if<api::PauseStep>(&current)) {
      if (pause->duration && now_ >= started + *pause->duration) {
        Advance("PauseEnded", "step " + std::to_string(i) + ": the pause of " +
                                  std::to_string(pause->duration->count()) + " s ended");
        return;
      }
      const std::string message = pause->duration
                                      ? "step " + std::to_string(i) + ": paused until " +
                                            FormatTime(started + *pause->duration) +
                                            " (status.promote=step ends it now)"
                                      : "step " + std::to_string(i) +
                                            ": paused; set status.promote to step or full to go on";
      if (phase() != Phase::kPaused) {
        Transition(Phase::kPaused, pause->duration ? "PauseDuration" : "AwaitingPromotion",
                   message);
      } else {
        s.message = message;
      }
      paused_reason_ = pause->duration ? "PauseDuration" : "AwaitingPromotion";
      if (pause->duration) {
        decision_.requeue_after =
            std::chrono::duration_cast<milliseconds>(started + *pause->duration - now_) +
            milliseconds(1);
      }
      return;
    }
    // An analysis step: not run by this operator yet, so it waits like a pause
    // and says so, rather than passing silently.
    const std::string message = "step " + std::to_string(i) +
                                ": analysis steps are not run by this operator version; "
                                "set status.promote=step to pass it by hand";
    paused_reason_ = "AnalysisNotSupported";
    if (phase() != Phase::kPaused) {
      Transition(Phase::kPaused, "AnalysisNotSupported", message);
    } else {
      s.message = message;
    }
  }

  // `wanted` pods of the new version's Deployment (`track`: canary or green)
  // are not available yet. Past progressDeadlineSeconds from stepStartTime
  // the rollout fails; until then it says what it waits for and looks again.
  void AwaitNewPods(int32_t wanted, const std::string& track, const std::string& where,
                    const std::string& waiting) {
    api::ModelVersionStatus& s = decision_.status;
    const auto waited = now_ - s.step_start_time.value_or(now_);
    const int32_t ready = observed_.canary ? observed_.canary->available : 0;
    if (waited > deadline_) {
      Fail("ProgressDeadlineExceeded",
           track + " pods not available within " +
               std::to_string(std::chrono::duration_cast<seconds>(deadline_).count()) + " s" +
               where + " (" + std::to_string(ready) + " of " + std::to_string(wanted) +
               " available)");
      return;
    }
    SetPhase(Phase::kProgressing);
    s.message = waiting + " (" + std::to_string(ready) + " available)" + Unschedulable();
    decision_.requeue_after =
        std::min(kProgressPoll,
                 std::chrono::duration_cast<milliseconds>(deadline_ - waited) + milliseconds(1));
  }

  // The user's Deployment moves to this version: promotion after the last
  // step, or the first version of a model, which has no stable one to canary.
  void MoveStable() {
    api::ModelVersionStatus& s = decision_.status;
    decision_.canary_replicas = CurrentCanaryReplicas();  // keep serving while stable rolls
    decision_.point_stable_at = mv_.spec.version;
    RouteActiveTo(mv_.spec.version);
    if (!observed_.stable) {  // the reconciler blocks on a missing Deployment first
      decision_.requeue_after = kProgressPoll;
      return;
    }
    if (fixed_ && observed_.stable_version && !MoveStableWithinCapacity()) return;
    if (observed_.stable_points_at == mv_.spec.version && observed_.stable->RolledOut() &&
        observed_.stable->desired == TotalReplicas()) {
      decision_.canary_replicas = 0;
      Promote("Deployment " + mv_.spec.serving->deployment + " runs version " + mv_.spec.version +
              " on all " + std::to_string(observed_.stable->desired) + " replicas");
      return;
    }
    const auto waited = now_ - s.step_start_time.value_or(now_);
    if (waited > deadline_) {
      Fail("ProgressDeadlineExceeded",
           "Deployment " + mv_.spec.serving->deployment + " did not become available on version " +
               mv_.spec.version + " within " +
               std::to_string(std::chrono::duration_cast<seconds>(deadline_).count()) + " s (" +
               std::to_string(observed_.stable->available) + " of " +
               std::to_string(observed_.stable->desired) + " available)");
      return;
    }
    SetPhase(Phase::kProgressing);
    s.message = "promoting: Deployment " + mv_.spec.serving->deployment + " moves to version " +
                mv_.spec.version + " (" + std::to_string(observed_.stable->updated) + " of " +
                std::to_string(observed_.stable->desired) + " updated, " +
                std::to_string(observed_.stable->available) + " available)";
    decision_.requeue_after = kProgressPoll;
  }

  // capacity: fixed promotion, without a rolling update that would need pods
  // beyond the total: all pods are traded for canary pods, the user's
  // Deployment (at zero replicas) is pointed at the version, then canary pods
  // are traded back for its pods a batch at a time. False while that is
  // under way (the decision then says what to do now).
  bool MoveStableWithinCapacity() {
    api::ModelVersionStatus& s = decision_.status;
    const int32_t total = TotalReplicas();
    const std::string& deployment = mv_.spec.serving->deployment;
    if (observed_.stable_points_at != mv_.spec.version) {
      decision_.canary_replicas = Trade(total);
      if (observed_.stable->desired == 0 && StablePods() == 0) {
        decision_.point_stable_at = mv_.spec.version;
      } else {
        decision_.point_stable_at.reset();
      }
      SetPhase(Phase::kProgressing);
      s.message = "promoting within capacity: " + std::to_string(CanaryPods()) + " of " +
                  std::to_string(total) + " pods on " + mv_.spec.version +
                  " (canary) before Deployment " + deployment + " moves to it";
      decision_.requeue_after = kProgressPoll;
      return false;
    }
    const int32_t batch = std::max(1, total / 4);
    const int32_t stable_available = observed_.stable->available;
    decision_.canary_replicas =
        std::min(CurrentCanaryReplicas(), std::max(0, total - stable_available - batch));
    StableScale scale;
    scale.replicas = std::max(0, total - std::max(decision_.canary_replicas, CanaryPods()));
    const bool done = decision_.canary_replicas == 0 && CanaryPods() == 0 &&
                      observed_.stable->desired == total && observed_.stable->RolledOut();
    if (!done) scale.original = total;
    decision_.stable_scale = scale;
    if (done) return true;
    SetPhase(Phase::kProgressing);
    s.message = "promoting within capacity: Deployment " + deployment + " takes over from the " +
                "canary (" + std::to_string(stable_available) + " of " + std::to_string(total) +
                " available, " + std::to_string(CanaryPods()) + " canary pods left)";
    decision_.requeue_after = kProgressPoll;
    return false;
  }

  // Blue-green before the user's Deployment moves (kBlueGreen* positions).
  void RunBlueGreenStep() {
    api::ModelVersionStatus& s = decision_.status;
    const std::string& stable = *observed_.stable_version;
    const std::string& deployment = mv_.spec.serving->deployment;
    const std::string green = TrackName(deployment, kGreenTrack);
    const int32_t total = TotalReplicas();
    const auto started = s.step_start_time.value_or(now_);
    const int32_t i = static_cast<int32_t>(step());
    decision_.canary_replicas = total;
    if (i < kBlueGreenSwitched) s.canary_weight = 0;  // the preview takes no production traffic
    if (i == kBlueGreenPreview) {
      // The active Service is pinned to the stable version's pods before
      // green pods (which its selector would match too) exist, so the pods
      // must carry the version label first.
      if (observed_.stable_points_at != stable || !observed_.stable_template_pointed ||
          !observed_.stable->RolledOut()) {
        decision_.canary_replicas = 0;
        decision_.point_stable_at = stable;
        SetPhase(Phase::kProgressing);
        s.message = "preparing: Deployment " + deployment + " is labelled with its version " +
                    stable + " so that Service " + *mv_.spec.serving->service +
                    " can be pinned to it";
        decision_.requeue_after = kProgressPoll;
        return;
      }
      RouteActiveTo(stable);
      if (observed_.canary && observed_.canary->desired == total && observed_.canary->RolledOut()) {
        Advance("PreviewReady", "Deployment " + green + " runs version " + mv_.spec.version +
                                    " on " + std::to_string(total) + " pods" + PreviewText());
        return;
      }
      AwaitNewPods(
          total, "green", "",
          "preview: waiting for " + std::to_string(total) + " pods of Deployment " + green);
      return;
    }
    if (i == kBlueGreenAwaiting) {
      RouteActiveTo(stable);
      if (s.promote) {
        s.promote.reset();
        Switch("Switched", "status.promote");
        return;
      }
      const auto& automatic = blue_green_->auto_promotion_seconds;
      if (automatic && now_ >= started + seconds(*automatic)) {
        Switch("AutoPromoted", "autoPromotionSeconds (" + std::to_string(*automatic) + " s)");
        return;
      }
      const std::string message =
          automatic
              ? "preview ready" + PreviewText() + "; promoted automatically at " +
                    FormatTime(started + seconds(*automatic)) + " (status.promote does it now)"
              : "preview ready" + PreviewText() + "; set status.promote to switch Service " +
                    *mv_.spec.serving->service + " to it";
      paused_reason_ = automatic ? "AwaitingAutoPromotion" : "AwaitingPromotion";
      if (phase() != Phase::kPaused) {
        Transition(Phase::kPaused, *paused_reason_, message);
      } else {
        s.message = message;
      }
      if (automatic) {
        decision_.requeue_after =
            std::chrono::duration_cast<milliseconds>(started + seconds(*automatic) - now_) +
            milliseconds(1);
      }
      return;
    }
    // kBlueGreenSwitched: green serves; blue waits out the delay untouched,
    // so that an abort switches back at once.
    RouteActiveTo(mv_.spec.version);
    const auto delay = seconds(blue_green_->scale_down_delay_seconds);
    if (s.promote) {
      s.promote.reset();
      Advance("ScaleDownNow", "status.promote ended the scale-down delay: Deployment " +
                                  deployment + " moves to version " + mv_.spec.version);
      return;
    }
    if (now_ >= started + delay) {
      Advance("ScaleDownDelayEnded", "the scale-down delay ended: Deployment " + deployment +
                                         " moves to version " + mv_.spec.version);
      return;
    }
    SetPhase(Phase::kProgressing);
    s.message = "all traffic on version " + mv_.spec.version + " (Deployment " + green +
                "); Deployment " + deployment + " keeps version " + stable + " until " +
                FormatTime(started + delay) + ": set status.abort=true to switch back";
    decision_.requeue_after =
        std::chrono::duration_cast<milliseconds>(started + delay - now_) + milliseconds(1);
  }

  // Blue-green's one move: the active Service selects the green pods.
  void Switch(const std::string& reason, const std::string& by) {
    api::ModelVersionStatus& s = decision_.status;
    s.canary_weight = 100;
    RouteActiveTo(mv_.spec.version);
    Advance(reason, "Service " + *mv_.spec.serving->service + " switched to version " +
                        mv_.spec.version + " by " + by + "; version " + *observed_.stable_version +
                        " stays up for " + std::to_string(blue_green_->scale_down_delay_seconds) +
                        " s");
  }

  std::string PreviewText() const {
    return blue_green_->preview_service
               ? "; Service " + *blue_green_->preview_service + " previews it"
               : "";
  }

  std::string Unschedulable() {
    if (!observed_.pods_unschedulable) return "";
    unschedulable_ = true;
    return "; " + *observed_.pods_unschedulable +
           (blue_green_ || fixed_
                ? ""
                : " (when every GPU is taken, spec.strategy.canary.capacity: fixed trades "
                  "stable pods for canary pods)");
  }

  // Abort, rollback, or a newer version: traffic back on the stable version.
  void ReturnTrafficToStable() {
    decision_.canary_replicas = 0;
    if (!observed_.stable_version || !mv_.spec.serving) return;
    RouteActiveTo(*observed_.stable_version);
    if (observed_.stable && observed_.stable_points_at != *observed_.stable_version) {
      decision_.point_stable_at = observed_.stable_version;
    }
  }

  void Promote(const std::string& why) {
    api::ModelVersionStatus& s = decision_.status;
    s.stable_version = mv_.spec.version;
    s.promoted_time = now_;
    s.canary_weight = 100;
    s.current_step = static_cast<int32_t>(FinalStep());
    s.promote.reset();
    decision_.canary_replicas = 0;
    Transition(Phase::kPromoted, "Promoted", "version " + mv_.spec.version + " serves: " + why);
  }

  void Fail(const std::string& reason, const std::string& why) {
    api::ModelVersionStatus& s = decision_.status;
    failure_reason_ = reason;
    const bool can_roll_back = mv_.spec.rollback.on_failure && observed_.stable_version;
    if (!can_roll_back) {
      decision_.canary_replicas = CurrentCanaryReplicas();
      Transition(Phase::kFailed, reason,
                 why + (observed_.stable_version ? "; left in place (rollback.onFailure is false)"
                                                 : "; there is no stable version to roll back to"),
                 /*warning=*/true);
      return;
    }
    s.canary_weight = 0;
    s.promote.reset();
    ReturnTrafficToStable();
    RestoreFixedCapacity();
    Transition(Phase::kRolledBack, reason,
               "rolled back: " + why + "; all traffic on version " + *observed_.stable_version,
               /*warning=*/true);
  }

  void Advance(const std::string& reason, const std::string& message) {
    api::ModelVersionStatus& s = decision_.status;
    s.current_step = static_cast<int32_t>(step() + 1);
    s.step_start_time = now_;
    decision_.status.phase = Phase::kProgressing;
    Record(reason, message);
    s.message = message;
    decision_.requeue_after = milliseconds(0);
  }

  void RestartFromStepZero(const std::string& reason, const std::string& message) {
    api::ModelVersionStatus& s = decision_.status;
    s.current_step = 0;
    s.step_start_time = now_;
    s.canary_weight = 0;
    Transition(Phase::kStaging, reason, message);
    decision_.requeue_after = milliseconds(0);
  }

  void SetPhase(Phase phase) { decision_.status.phase = phase; }

  void Transition(Phase phase, const std::string& reason, const std::string& message,
                  bool warning = false) {
    decision_.status.phase = phase;
    decision_.status.message = message;
    Record(reason, message);
    decision_.events.push_back({.warning = warning, .reason = reason, .message = message});
  }

  void Record(const std::string& reason, const std::string& message) {
    const api::ModelVersionStatus& s = decision_.status;
    decision_.status.Record({.time = now_,
                             .phase = *s.phase,
                             .step = s.current_step,
                             .weight = s.canary_weight,
                             .reason = reason,
                             .message = message});
  }

  std::string Summary() const {
    std::string text = observed_.staging_summary;
    if (text.empty()) {
      text = std::to_string(decision_.status.nodes->ready) + " of " +
             std::to_string(decision_.status.nodes->desired) + " nodes ready";
    }
    return text;
  }

  std::string StableText() const {
    return observed_.stable_version ? "version " + *observed_.stable_version
                                    : "no version (none was promoted yet)";
  }

  void UpdateConditions() {
    api::ModelVersionStatus& s = decision_.status;
    const Phase p = phase();
    const int64_t generation = mv_.metadata.generation;
    auto set = [&](std::string type, bool value, std::string reason, std::string message) {
      api::Condition condition;
      condition.type = std::move(type);
      condition.status = value ? "True" : "False";
      condition.reason = std::move(reason);
      condition.message = std::move(message);
      condition.observed_generation = generation;
      api::SetCondition(s.conditions, std::move(condition), now_);
    };
    const bool staged = s.nodes->ready >= mv_.spec.staging.min_ready_nodes;
    set("Staged", staged, staged ? "MinReadyNodes" : "WaitingForNodes", Summary());
    const bool moving = p == Phase::kStaging || p == Phase::kProgressing || p == Phase::kPaused;
    set("Progressing", moving, moving ? "RolloutRunning" : std::string(api::PhaseName(p)), "");
    const bool paused = p == Phase::kPaused;
    set("Paused", paused, paused ? paused_reason_.value_or("AwaitingPromotion") : "NotPaused",
        paused ? s.message : "");
    const bool failed = p == Phase::kFailed || p == Phase::kRolledBack;
    if (failed) {
      if (failure_reason_) set("Healthy", false, *failure_reason_, s.message);
    } else if (p == Phase::kDegraded) {
      set("Healthy", false, "NodesFailed", Summary());
    } else {
      set("Healthy", true, "Healthy", "");
    }
    // Set once a new-version pod could not be placed, and kept up to date.
    if (unschedulable_) {
      set("PodsScheduled", false, "Unschedulable", *observed_.pods_unschedulable);
    } else if (api::FindCondition(s.conditions, "PodsScheduled")) {
      set("PodsScheduled", true, "Scheduled", "");
    }
    const bool promoted = p == Phase::kPromoted || p == Phase::kDegraded;
    if (promoted) {
      set("Promoted", true, "Promoted", "version " + mv_.spec.version + " is the stable version");
    } else if (superseded_after_promotion_) {
      set("Promoted", false, "Superseded", s.message);
    } else if (!api::FindCondition(s.conditions, "Promoted") ||
               api::FindCondition(s.conditions, "Promoted")->reason != "Superseded") {
      set("Promoted", false, "NotPromoted", "");
    }
  }

  const api::ModelVersion& mv_;
  const Observed& observed_;
  const api::TimePoint now_;
  std::vector<api::CanaryStep> steps_;
  std::chrono::seconds deadline_{600};
  bool fixed_ = false;
  const api::BlueGreenStrategy* blue_green_ = nullptr;
  Decision decision_;
  std::optional<std::string> failure_reason_;
  std::optional<std::string> paused_reason_;
  bool superseded_after_promotion_ = false;
  bool unschedulable_ = false;
};

}  // namespace

bool IsResumableFailure(const api::ModelVersionStatus& status) {
  const api::Condition* healthy = api::FindCondition(status.conditions, "Healthy");
  if (!healthy || healthy->status != "False") return false;
  return healthy->reason == "DeploymentNotFound" || healthy->reason == "SecretNotFound" ||
         healthy->reason == "PublicKeyNotFound" || healthy->reason == "ServiceNotFound";
}

api::ModelVersionStatus InitialStatus() {
  api::ModelVersionStatus status;
  status.phase = Phase::kPending;
  return status;
}

int32_t WeightAt(const std::vector<api::CanaryStep>& steps, size_t step) {
  int32_t weight = 0;
  for (size_t i = 0; i <= step && i < steps.size(); ++i) {
    if (auto* set_weight = std::get_if<api::SetWeightStep>(&steps[i])) weight = set_weight->weight;
  }
  return weight;
}

Decision Decide(const api::ModelVersion& mv, const Observed& observed) {
  return Machine(mv, observed).Run();
}

}  // namespace ferry::operator_
