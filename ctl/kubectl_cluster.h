// The cluster as `kubectl ferry` sees it: where it is (kubectl's rules), which
// namespace a command means, and the few reads and writes the commands make,
// returned as typed objects. One RolloutCluster per command run; nothing is
// cached between calls, so every view is what the API server holds now.
//
// The namespace follows kubectl: -n/--namespace, else the namespace of the
// kubeconfig's context (or the pod's own, in a pod), else "default". Errors
// name what a person can act on: a missing ModelVersion is "ModelVersion
// ns/name not found" (kNotFound); a cluster that does not answer names the
// server and the kubeconfig it came from (kUnavailable).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/api/model_node.h"
#include "lib/api/model_version.h"
#include "lib/common/result.h"
#include "lib/kube/client.h"

namespace ferry::ctl {

struct ClusterFlags {
  std::string kubeconfig;
  std::string context;
  std::string namespace_name;  // empty: the kubeconfig's
};

// --kubeconfig, --context, -n/--namespace, bound to `flags`.
void AddClusterFlags(CLI::App& app, ClusterFlags& flags);

// A Kubernetes object name (DNS subdomain: [a-z0-9.-], at most 253), checked
// before it becomes part of a URL.
Status ValidateObjectName(std::string_view name);

class RolloutCluster {
 public:
  static Result<RolloutCluster> Connect(const ClusterFlags& flags);

  const std::string& namespace_name() const { return namespace_; }

  // kNotFound as "ModelVersion ns/name not found".
  Result<api::ModelVersion> GetModelVersion(std::string_view name);
  // nullopt when there is no such ModelVersion.
  Result<std::optional<api::ModelVersion>> FindModelVersion(std::string_view name);
  // In this namespace, or all when `all_namespaces`; `field_selector` as the
  // API takes it ("spec.model=coder-6.7b", or empty).
  Result<std::vector<api::ModelVersion>> ListModelVersions(bool all_namespaces,
                                                           const std::string& field_selector = "");
  Result<std::vector<api::ModelNode>> ListModelNodes();
  // A merge patch of mv's status subresource; kConflict when the patch's
  // resourceVersion is no longer the object's.
  Status PatchStatus(const api::ModelVersion& mv, const api::Json& patch);

 private:
  RolloutCluster(std::unique_ptr<kube::Client> client, std::string namespace_name,
                 std::string origin);
  // Adds the server and where its address came from to a failure to reach it.
  Error Explain(const Error& error) const;

  std::unique_ptr<kube::Client> client_;
  std::string namespace_;
  std::string origin_;
};

}  // namespace ferry::ctl
