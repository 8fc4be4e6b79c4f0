#include "lib/api/model_node.h"

#include <array>

namespace ferry::api {

namespace {

constexpr std::array<std::pair<VersionState, std::string_view>, 8> kStateNames{{
    {VersionState::kPending, "Pending"},
    {VersionState::kFetching, "Fetching"},
    {VersionState::kStaging, "Staging"},
    {VersionState::kVerifying, "Verifying"},
    {VersionState::kReady, "Ready"},
    {VersionState::kActive, "Active"},
    {VersionState::kFailed, "Failed"},
    {VersionState::kRemoving, "Removing"},
}};

Result<NodeModel> ParseNodeModel(const JsonView& item) {
  FirstError first;
  NodeModel model;
  model.model = first(item.RequiredString("model"));
  model.active = first(item.OptionalString("active"));
  for (const JsonView& entry : first(item.RequiredItems("versions"))) {
    NodeVersion version;
    version.version = first(entry.RequiredString("version"));
    auto source = first(entry.Required("source"));
    if (!first.ok()) return first.error();
    version.source.repository = first(source.RequiredString("repository"));
    version.source.manifest_digest = first(source.OptionalString("manifestDigest"));
    version.source.public_key = first(source.OptionalString("publicKey"));
    version.source.delta_from = first(source.StringsOr("deltaFrom"));
    if (auto ref = first(entry.Optional("modelVersionRef"))) {
      version.model_version_ref =
          ModelVersionRef{.namespace_name = first(ref->RequiredString("namespace")),
                          .name = first(ref->RequiredString("name"))};
    }
    model.versions.push_back(std::move(version));
  }
  if (!first.ok()) return first.error();
  return model;
}

Result<HeldVersion> ParseHeldVersion(const JsonView& item) {
  FirstError first;
  HeldVersion held;
  held.model = first(item.RequiredString("model"));
  held.version = first(item.RequiredString("version"));
  const std::string state = first(item.RequiredString("state"));
  held.bytes = first(item.IntOr("bytes", 0));
  held.total_bytes = first(item.IntOr("totalBytes", 0));
  held.downloaded_bytes = first(item.IntOr("downloadedBytes", 0));
  held.delta_from = first(item.OptionalString("deltaFrom"));
  held.digest = first(item.OptionalString("digest"));
  held.message = first(item.StringOr("message", ""));
  held.last_transition_time = first(OptionalTime(item, "lastTransitionTime"));
  if (!first.ok()) return first.error();
  auto known = ParseVersionState(state);
  if (!known) return item.Required("state")->Invalid("unknown state \"" + state + "\"");
  held.state = *known;
  return held;
}

Result<GpuStatus> ParseGpu(const JsonView& item) {
  FirstError first;
  GpuStatus gpu;
  gpu.index = static_cast<int32_t>(first(item.RequiredInt("index")));
  gpu.uuid = first(item.StringOr("uuid", ""));
  gpu.name = first(item.StringOr("name", ""));
  gpu.healthy = first(first(item.Required("healthy")).Bool());
  gpu.reasons = first(item.StringsOr("reasons"));
  for (const JsonView& xid : first(item.ItemsOr("xidCritical"))) {
    gpu.xid_critical.push_back(first(xid.Int()));
  }
  if (!first.ok()) return first.error();
  return gpu;
}

}  // namespace

std::string_view VersionStateName(VersionState state) {
  for (const auto& [value, name] : kStateNames) {
    if (value == state) return name;
  }
  return "Unknown";
}

std::optional<VersionState> ParseVersionState(std::string_view name) {
  for (const auto& [value, state_name] : kStateNames) {
    if (state_name == name) return value;
  }
  return std::nullopt;
}

const NodeVersion* NodeModel::Find(std::string_view version) const {
  for (const NodeVersion& v : versions) {
    if (v.version == version) return &v;
  }
  return nullptr;
}

const NodeModel* ModelNodeSpec::Find(std::string_view model) const {
  for (const NodeModel& m : models) {
    if (m.model == model) return &m;
  }
  return nullptr;
}

Json ModelNodeSpec::ToJson() const {
  Json list = Json::array();
  for (const NodeModel& model : models) {
    Json versions = Json::array();
    for (const NodeVersion& version : model.versions) {
      Json source = {{"repository", version.source.repository}};
      if (version.source.manifest_digest)
        source["manifestDigest"] = *version.source.manifest_digest;
      if (version.source.public_key) source["publicKey"] = *version.source.public_key;
      if (!version.source.delta_from.empty()) source["deltaFrom"] = version.source.delta_from;
      Json entry = {{"version", version.version}, {"source", std::move(source)}};
      if (version.model_version_ref) {
        entry["modelVersionRef"] = {{"namespace", version.model_version_ref->namespace_name},
                                    {"name", version.model_version_ref->name}};
      }
      versions.push_back(std::move(entry));
    }
    Json entry = {{"model", model.model}, {"versions", std::move(versions)}};
    if (model.active) entry["active"] = *model.active;
    list.push_back(std::move(entry));
  }
  return Json{{"models", std::move(list)}};
}

const HeldVersion* ModelNodeStatus::Find(std::string_view model, std::string_view version) const {
  for (const HeldVersion& held : versions) {
    if (held.model == model && held.version == version) return &held;
  }
  return nullptr;
}

bool ModelNode::HeartbeatFresh(TimePoint now) const {
  if (!status.heartbeat) return false;
  const auto period = status.heartbeat_seconds ? std::chrono::seconds(*status.heartbeat_seconds)
                                               : kDefaultHeartbeatPeriod;
  return now - *status.heartbeat <= 3 * period;
}

bool ModelNode::GpusHealthy() const {
  if (const Condition* c = FindCondition(status.conditions, "GPUHealthy");
      c && c->status == "False") {
    return false;
  }
  for (const GpuStatus& gpu : status.gpus) {
    if (!gpu.healthy) return false;
  }
  return status.healthy_gpus >= status.total_gpus;
}

bool ModelNode::HoldsReady(std::string_view model, std::string_view version) const {
  const HeldVersion* held = status.Find(model, version);
  return held && (held->state == VersionState::kReady || held->state == VersionState::kActive);
}

Result<ModelNode> ParseModelNode(const Json& object) {
  JsonView root(object, "");
  FirstError first;
  ModelNode node;
  auto metadata = first(root.Required("metadata"));
  if (!first.ok()) return first.error();
  auto meta = ParseObjectMeta(metadata);
  if (!meta) return meta.error();
  node.metadata = std::move(*meta);
  if (auto spec = first(root.Optional("spec"))) {
    for (const JsonView& item : first(spec->ItemsOr("models"))) {
      auto model = ParseNodeModel(item);
      if (!model) return model.error();
      node.spec.models.push_back(std::move(*model));
    }
  }
  if (auto status = first(root.Optional("status"))) {
    node.status.observed_generation = first(status->IntOr("observedGeneration", 0));
    for (const JsonView& item : first(status->ItemsOr("versions"))) {
      auto held = ParseHeldVersion(item);
      if (!held) return held.error();
      node.status.versions.push_back(std::move(*held));
    }
    if (auto disk = first(status->Optional("disk"))) {
      node.status.disk = DiskStatus{.capacity_bytes = first(disk->IntOr("capacityBytes", 0)),
                                    .available_bytes = first(disk->IntOr("availableBytes", 0)),
                                    .store_bytes = first(disk->IntOr("storeBytes", 0))};
    }
    node.status.total_gpus = static_cast<int32_t>(first(status->IntOr("totalGPUs", 0)));
    node.status.healthy_gpus = static_cast<int32_t>(first(status->IntOr("healthyGPUs", 0)));
    for (const JsonView& item : first(status->ItemsOr("gpus"))) {
      auto gpu = ParseGpu(item);
      if (!gpu) return gpu.error();
      node.status.gpus.push_back(std::move(*gpu));
    }
    node.status.heartbeat = first(OptionalTime(*status, "heartbeat"));
    if (auto period = first(status->OptionalInt("heartbeatSeconds"))) {
      node.status.heartbeat_seconds = static_cast<int32_t>(*period);
    }
    node.status.agent_version = first(status->StringOr("agentVersion", ""));
    node.status.conditions = first(ParseConditions(*status));
  }
  if (!first.ok()) return first.error();
  return node;
}

}  // namespace ferry::api
