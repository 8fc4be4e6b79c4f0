// What the step machine's tests share: a ModelVersion, observations of a
// healthy cluster, and a decision applied as the reconciler would write it.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "lib/common/utc_time.h"
#include "operator/rollout.h"

namespace ferry::operator_ {

inline const api::TimePoint kT0 = *ParseTime("2026-12-01T00:00:00Z");

// A ModelVersion of coder 2.0.0 serving coder-server; `strategy_json` is
// spec.strategy.
inline api::ModelVersion WithStrategy(const std::string& strategy_json,
                                      bool rollback_on_failure = true) {
  api::Json object = api::Json::parse(R"({
    "metadata": {"name": "coder-2", "namespace": "ml", "generation": 1},
    "spec": {"model": "coder", "version": "2.0.0",
             "source": {"repository": "http://repo", "manifestDigest": "sha256:)" +
                                      std::string(64, 'a') + R"("},
             "serving": {"deployment": "coder-server", "service": "coder"},
             "staging": {"minReadyNodes": 2},
             "strategy": )" + strategy_json +
                                      R"(}})");
  object["spec"]["rollback"] = {{"onFailure", rollback_on_failure}};
  auto mv = api::ParseModelVersion(object);
  EXPECT_TRUE(mv.ok()) << mv.error().message;
  return *mv;
}

inline api::ModelVersion Canary(const std::string& steps_json, bool rollback_on_failure = true) {
  return WithStrategy(R"({"canary": {"progressDeadlineSeconds": 60, "steps": )" + steps_json + "}}",
                      rollback_on_failure);
}

// A blue-green ModelVersion; `strategy_json` is spec.strategy.blueGreen.
inline api::ModelVersion BlueGreen(const std::string& strategy_json) {
  return WithStrategy(R"({"blueGreen": )" + strategy_json + "}");
}

inline api::DeploymentProgress Deployment(int32_t desired, int32_t available) {
  api::DeploymentProgress progress;
  progress.desired = desired;
  progress.generation = progress.observed_generation = 1;
  progress.replicas = progress.updated = progress.ready = desired;
  progress.available = available;
  return progress;
}

// Observations of a healthy cluster: 3 nodes ready, stable 1.0.0 on 4 replicas.
inline Observed Healthy(api::TimePoint now = kT0) {
  Observed observed;
  observed.now = now;
  observed.stable_version = "1.0.0";
  observed.nodes = {.desired = 3, .ready = 3, .failed = 0};
  observed.stable = Deployment(4, 4);
  observed.stable_points_at = "1.0.0";
  observed.stable_template_pointed = true;
  return observed;
}

// Applies a decision's status as the reconciler would have written it.
inline api::ModelVersion After(api::ModelVersion mv, const Decision& decision) {
  mv.status = decision.status;
  return mv;
}

inline const api::Condition& ConditionOf(const Decision& decision, const std::string& type) {
  const api::Condition* condition = api::FindCondition(decision.status.conditions, type);
  EXPECT_NE(condition, nullptr) << type;
  static const api::Condition none;
  return condition ? *condition : none;
}

}  // namespace ferry::operator_
