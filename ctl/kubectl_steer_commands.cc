// kubectl ferry promote / abort / retry: read the ModelVersion, let
// ctl/kubectl_steer.h decide, write the status patch. A conflict (the
// operator wrote the status between our read and our write) means the
// decision was made on an old state: read again and decide again.
#include <functional>
#include <iostream>

#include "ctl/kubectl_cluster.h"
#include "ctl/kubectl_commands.h"
#include "ctl/kubectl_steer.h"

namespace ferry::ctl {
namespace {

using Decide = std::function<Result<SteerDecision>(const api::ModelVersion&)>;

int RunSteer(const CLI::App& app, const ClusterFlags& flags, const std::string& name,
             const Decide& decide) {
  if (Status valid = ValidateObjectName(name); !valid) {
    return PluginUsageError(app, "NAME: " + valid.error().message);
  }
  Result<RolloutCluster> cluster = RolloutCluster::Connect(flags);
  if (!cluster) return PluginFail(app, cluster.error());
  Result<SteerDecision> done = kube::RetryOnConflict(
      [&]() -> Result<SteerDecision> {
        Result<api::ModelVersion> mv = cluster->GetModelVersion(name);
        if (!mv) return mv.error();
        Result<SteerDecision> decision = decide(*mv);
        if (!decision) return decision.error();
        if (!decision->patch.is_null()) {
          if (Status s = cluster->PatchStatus(*mv, decision->patch); !s) return s.error();
        }
        return decision;
      },
      5);
  if (!done) return PluginFail(app, done.error());
  std::cout << done->summary << "\n";
  return 0;
}

struct SteerFlags {
  ClusterFlags cluster;
  std::string name;
  bool full = false;
};

std::shared_ptr<SteerFlags> AddSteerFlags(CLI::App& app) {
  auto flags = std::make_shared<SteerFlags>();
  app.add_option("NAME", flags->name, "the ModelVersion")->required();
  AddClusterFlags(app, flags->cluster);
  return flags;
}

}  // namespace

Command AddPromoteCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand(
      "promote", "finish the current step (ends a pause), or with --full skip to promotion");
  auto flags = AddSteerFlags(*app);
  app->add_flag("--full", flags->full, "skip the remaining steps and promote now");
  return {
      app, [app, flags]() {
        const auto request = flags->full ? api::PromoteRequest::kFull : api::PromoteRequest::kStep;
        return RunSteer(*app, flags->cluster, flags->name, [request](const api::ModelVersion& mv) {
          return DecidePromote(mv, request);
        });
      }};
}

Command AddAbortCommand(CLI::App& parent) {
  auto* app =
      parent.add_subcommand("abort", "stop the rollout; all traffic back to the stable version");
  auto flags = AddSteerFlags(*app);
  return {app, [app, flags]() { return RunSteer(*app, flags->cluster, flags->name, DecideAbort); }};
}

Command AddRetryCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("retry", "restart an aborted rollout from step 0");
  auto flags = AddSteerFlags(*app);
  return {app, [app, flags]() { return RunSteer(*app, flags->cluster, flags->name, DecideRetry); }};
}

}  // namespace ferry::ctl
