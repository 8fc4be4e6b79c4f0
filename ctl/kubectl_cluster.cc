#include "ctl/kubectl_cluster.h"

#include <algorithm>

namespace ferry::ctl {
namespace {

// A person waits on the answer: a few quick retries, then the error, rather
// than the controllers' patient minute of backoff.
kube::ClientOptions InteractiveOptions() {
  kube::ClientOptions options;
  options.max_retries = 2;
  options.retry_backoff.initial = std::chrono::milliseconds(100);
  options.retry_backoff.max = std::chrono::milliseconds(1000);
  return options;
}

Result<std::vector<api::ModelVersion>> ParseAll(const std::vector<api::Json>& items) {
  std::vector<api::ModelVersion> out;
  for (const api::Json& item : items) {
    Result<api::ModelVersion> mv = api::ParseModelVersion(item);
    if (!mv) return mv.error().Wrap("ModelVersion " + kube::ObjectKey(item));
    out.push_back(std::move(*mv));
  }
  return out;
}

}  // namespace

void AddClusterFlags(CLI::App& app, ClusterFlags& flags) {
  app.add_option("--kubeconfig", flags.kubeconfig,
                 "kubeconfig file (default: $KUBECONFIG, the pod's service account, "
                 "~/.kube/config)");
  app.add_option("--context", flags.context, "kubeconfig context (default: its current-context)");
  app.add_option("-n,--namespace", flags.namespace_name,
                 "namespace (default: the context's, else \"default\")");
}

Status ValidateObjectName(std::string_view name) {
  const bool allowed = std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
  if (name.empty() || name.size() > 253 || !allowed) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "\"" + std::string(name) +
                         "\" is not a Kubernetes object name (lowercase letters, digits, '-' and "
                         "'.', at most 253)");
  }
  return OkStatus();
}

Result<RolloutCluster> RolloutCluster::Connect(const ClusterFlags& flags) {
  Result<kube::ClusterConfig> config = kube::LoadDefaultConfig(flags.kubeconfig, flags.context);
  if (!config) return config.error();
  Result<std::unique_ptr<kube::Client>> client =
      kube::Client::Create(*config, InteractiveOptions());
  if (!client) return client.error().Wrap(config->origin);
  std::string namespace_name =
      flags.namespace_name.empty() ? config->default_namespace : flags.namespace_name;
  if (namespace_name.empty()) namespace_name = "default";
  return RolloutCluster(std::move(*client), std::move(namespace_name), config->origin);
}

RolloutCluster::RolloutCluster(std::unique_ptr<kube::Client> client, std::string namespace_name,
                               std::string origin)
    : client_(std::move(client)),
      namespace_(std::move(namespace_name)),
      origin_(std::move(origin)) {}

Error RolloutCluster::Explain(const Error& error) const {
  if (error.code != ErrorCode::kUnavailable) return error;
  return error.Wrap("cannot reach the API server " + client_->server() + " (from " + origin_ + ")");
}

Result<std::optional<api::ModelVersion>> RolloutCluster::FindModelVersion(std::string_view name) {
  Result<api::Json> object = client_->Get(kube::types::ModelVersions(), namespace_, name);
  if (!object) {
    if (object.error().code == ErrorCode::kNotFound) return std::optional<api::ModelVersion>();
    return Explain(object.error());
  }
  Result<api::ModelVersion> mv = api::ParseModelVersion(*object);
  if (!mv) return mv.error().Wrap("ModelVersion " + kube::ObjectKey(namespace_, name));
  return std::optional<api::ModelVersion>(std::move(*mv));
}

Result<api::ModelVersion> RolloutCluster::GetModelVersion(std::string_view name) {
  Result<std::optional<api::ModelVersion>> found = FindModelVersion(name);
  if (!found) return found.error();
  if (!*found) {
    return MakeError(ErrorCode::kNotFound,
                     "ModelVersion " + kube::ObjectKey(namespace_, name) + " not found");
  }
  return std::move(**found);
}

Result<std::vector<api::ModelVersion>> RolloutCluster::ListModelVersions(
    bool all_namespaces, const std::string& field_selector) {
  kube::ListOptions options;
  options.field_selector = field_selector;
  Result<kube::ObjectList> list =
      client_->ListAll(kube::types::ModelVersions(), all_namespaces ? "" : namespace_, options);
  if (!list) return Explain(list.error());
  return ParseAll(list->items);
}

Result<std::vector<api::ModelNode>> RolloutCluster::ListModelNodes() {
  Result<kube::ObjectList> list = client_->ListAll(kube::types::ModelNodes(), "");
  if (!list) return Explain(list.error());
  std::vector<api::ModelNode> out;
  for (const api::Json& item : list->items) {
    Result<api::ModelNode> node = api::ParseModelNode(item);
    if (!node) return node.error().Wrap("ModelNode " + kube::Name(item));
    out.push_back(std::move(*node));
  }
  return out;
}

Status RolloutCluster::PatchStatus(const api::ModelVersion& mv, const api::Json& patch) {
  Result<api::Json> patched =
      client_->Patch(kube::types::ModelVersions(), mv.metadata.namespace_name, mv.metadata.name,
                     kube::PatchType::kMerge, patch, "status");
  if (!patched) return Explain(patched.error());
  return OkStatus();
}

}  // namespace ferry::ctl
