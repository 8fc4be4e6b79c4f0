// kubectl ferry status / list / history: read the cluster, render with
// ctl/rollout_view.h. `status --watch` polls once a second rather than
// watching, because a status view also follows the ModelNodes' progress and
// a poll of both stays simple and survives API server restarts unchanged; it
// prints only when the rendered text changed.
//
// history takes a ModelVersion's name or a model's: a ModelVersion of that
// name in the namespace wins (its own entries), otherwise every ModelVersion
// whose spec.model is the argument (the CRD declares the field selectable),
// in creation order.
#include <algorithm>
#include <iostream>
#include <thread>

#include "ctl/kubectl_cluster.h"
#include "ctl/kubectl_commands.h"
#include "ctl/rollout_view.h"

namespace ferry::ctl {
namespace {

using api::Phase;

constexpr auto kWatchPeriod = std::chrono::seconds(1);

// The phases a watch waits for, and whether reaching one is a success.
std::optional<bool> WatchOutcome(const std::optional<Phase>& phase) {
  if (!phase) return std::nullopt;
  switch (*phase) {
    case Phase::kPromoted:
    case Phase::kSuperseded:
      return true;
    case Phase::kRolledBack:
    case Phase::kFailed:
      return false;
    default:
      return std::nullopt;
  }
}

// The ModelNodes, or none when they cannot be read (RBAC may allow a person
// ModelVersions but not the cluster-scoped ModelNodes): the rest of the view
// is still worth printing, and the reason goes to stderr once.
std::vector<api::ModelNode> NodesOrWarn(const CLI::App& app, RolloutCluster& cluster,
                                        bool& warned) {
  Result<std::vector<api::ModelNode>> nodes = cluster.ListModelNodes();
  if (nodes) return std::move(*nodes);
  if (!warned) {
    std::cerr << "kubectl ferry " << app.get_name()
              << ": staging progress left out: " << nodes.error().message << "\n";
    warned = true;
  }
  return {};
}

struct StatusFlags {
  ClusterFlags cluster;
  std::string name;
  bool watch = false;
};

int RunStatus(const CLI::App& app, const StatusFlags& flags) {
  if (Status valid = ValidateObjectName(flags.name); !valid) {
    return PluginUsageError(app, "NAME: " + valid.error().message);
  }
  Result<RolloutCluster> cluster = RolloutCluster::Connect(flags.cluster);
  if (!cluster) return PluginFail(app, cluster.error());
  std::string shown;
  bool warned_nodes = false;
  bool warned_unavailable = false;
  for (;;) {
    Result<api::ModelVersion> mv = cluster->GetModelVersion(flags.name);
    if (!mv) {
      // A watch outlives a restarting API server; a one-shot view does not wait.
      if (!flags.watch || mv.error().code != ErrorCode::kUnavailable)
        return PluginFail(app, mv.error());
      if (!warned_unavailable)
        std::cerr << "kubectl ferry status: " << mv.error().message << "; retrying\n";
      warned_unavailable = true;
      std::this_thread::sleep_for(kWatchPeriod);
      continue;
    }
    warned_unavailable = false;
    const std::string text = RenderStatus(*mv, NodesOrWarn(app, *cluster, warned_nodes));
    if (text != shown) {
      if (!shown.empty()) std::cout << "\n";
      std::cout << text << std::flush;
      shown = text;
    }
    if (!flags.watch) return 0;
    if (std::optional<bool> succeeded = WatchOutcome(mv->status.phase)) {
      if (*succeeded) return 0;
      return PluginFail(
          app, MakeError(ErrorCode::kInternal, "ModelVersion " + mv->metadata.Key() + " ended " +
                                                   std::string(api::PhaseName(*mv->status.phase))));
    }
    std::this_thread::sleep_for(kWatchPeriod);
  }
}

}  // namespace

Command AddRolloutStatusCommand(CLI::App& parent) {
  auto* app =
      parent.add_subcommand("status", "show a rollout: phase, step, weight, nodes, conditions");
  auto flags = std::make_shared<StatusFlags>();
  app->add_option("NAME", flags->name, "the ModelVersion")->required();
  app->add_flag("-w,--watch", flags->watch,
                "print again on every change until the rollout ends (exit 1 if it ends RolledBack "
                "or Failed)");
  AddClusterFlags(*app, flags->cluster);
  return {app, [app, flags]() { return RunStatus(*app, *flags); }};
}

Command AddRolloutListCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("list", "list ModelVersions and where their rollouts stand");
  auto cluster_flags = std::make_shared<ClusterFlags>();
  auto all = std::make_shared<bool>(false);
  AddClusterFlags(*app, *cluster_flags);
  app->add_flag("-A,--all-namespaces", *all, "every namespace");
  return {app, [app, cluster_flags, all]() {
            Result<RolloutCluster> cluster = RolloutCluster::Connect(*cluster_flags);
            if (!cluster) return PluginFail(*app, cluster.error());
            Result<std::vector<api::ModelVersion>> versions = cluster->ListModelVersions(*all);
            if (!versions) return PluginFail(*app, versions.error());
            if (versions->empty()) {
              // As kubectl get: the table's absence explained, on stderr, still a success.
              std::cerr << (*all ? std::string("No ModelVersions found.\n")
                                 : "No ModelVersions found in namespace " +
                                       cluster->namespace_name() + ".\n");
              return 0;
            }
            std::cout << RenderList(*versions, *all, std::chrono::system_clock::now());
            return 0;
          }};
}

Command AddRolloutHistoryCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand(
      "history",
      "a rollout's phase and step transitions; given a model, those of each of its versions");
  auto cluster_flags = std::make_shared<ClusterFlags>();
  auto name = std::make_shared<std::string>();
  app->add_option("NAME", *name,
                  "a ModelVersion in the namespace, else a model (spec.model) whose versions to "
                  "show in creation order")
      ->required();
  AddClusterFlags(*app, *cluster_flags);
  return {app, [app, cluster_flags, name]() {
            if (Status valid = ValidateObjectName(*name); !valid) {
              return PluginUsageError(*app, "NAME: " + valid.error().message);
            }
            Result<RolloutCluster> cluster = RolloutCluster::Connect(*cluster_flags);
            if (!cluster) return PluginFail(*app, cluster.error());
            Result<std::optional<api::ModelVersion>> one = cluster->FindModelVersion(*name);
            if (!one) return PluginFail(*app, one.error());
            if (*one) {
              std::cout << RenderHistory({**one});
              return 0;
            }
            Result<std::vector<api::ModelVersion>> versions =
                cluster->ListModelVersions(false, "spec.model=" + *name);
            if (!versions) return PluginFail(*app, versions.error());
            if (versions->empty()) {
              return PluginFail(
                  *app, MakeError(ErrorCode::kNotFound,
                                  "ModelVersion " + cluster->namespace_name() + "/" + *name +
                                      " not found, nor any ModelVersion of "
                                      "model " +
                                      *name + " in namespace " + cluster->namespace_name()));
            }
            std::stable_sort(versions->begin(), versions->end(),
                             [](const api::ModelVersion& a, const api::ModelVersion& b) {
                               const auto never = api::TimePoint::max();
                               const auto a_time = a.metadata.creation_timestamp.value_or(never);
                               const auto b_time = b.metadata.creation_timestamp.value_or(never);
                               if (a_time != b_time) return a_time < b_time;
                               return a.metadata.name < b.metadata.name;
                             });
            std::cout << RenderHistory(*versions);
            return 0;
          }};
}

}  // namespace ferry::ctl
