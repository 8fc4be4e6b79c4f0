#include "operator/model_version_reconciler.h"

#include <algorithm>
#include <set>

#include "lib/api/model_node.h"
#include "lib/api/model_version.h"
#include "lib/api/workload.h"
#include "lib/common/log_fields.h"
#include "lib/common/parallel_for.h"
#include "lib/kube/base64.h"
#include "lib/kube/client.h"
#include "lib/kube/resource.h"
#include "operator/fleet.h"
#include "operator/naming.h"
#include "operator/node_plan.h"
#include "operator/rollout.h"
#include "operator/workload.h"

namespace ferry::operator_ {

namespace {

using api::Phase;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Even a settled rollout is looked at again this often: heartbeats go stale
// without any event, and waves continue on nodes that join later.
constexpr milliseconds kResync = seconds(60);
constexpr int kStatusWriteAttempts = 5;
constexpr size_t kNodeWriteThreads = 8;

struct Sibling {
  api::ModelVersion mv;
  kube::ObjectPtr object;
};

bool IsPromotedPhase(Phase phase) { return phase == Phase::kPromoted || phase == Phase::kDegraded; }

Phase PhaseOf(const api::ModelVersion& mv) { return mv.status.phase.value_or(Phase::kPending); }

// Still rolling out (or able to resume): neither promoted nor finished.
bool IsRollingOut(const api::ModelVersion& mv) {
  const Phase phase = PhaseOf(mv);
  if (IsPromotedPhase(phase) || phase == Phase::kSuperseded || phase == Phase::kRolledBack) {
    return false;
  }
  return phase != Phase::kFailed || IsResumableFailure(mv.status);
}

// Creation order, with the name breaking ties so every replica agrees.
bool CreatedBefore(const api::ModelVersion& a, const api::ModelVersion& b) {
  const auto ta = a.metadata.creation_timestamp.value_or(api::TimePoint{});
  const auto tb = b.metadata.creation_timestamp.value_or(api::TimePoint{});
  if (ta != tb) return ta < tb;
  return a.metadata.Key() < b.metadata.Key();
}

std::string Describe(const api::ModelVersion& mv) {
  return "ModelVersion " + mv.metadata.Key() + " (version " + mv.spec.version + ")";
}

class Pass {
 public:
  Pass(ReconcileContext& context, RolloutMetrics* metrics, api::ModelVersion mv,
       kube::ObjectPtr object)
      : context_(context),
        metrics_(metrics),
        mv_(std::move(mv)),
        object_(std::move(object)),
        now_(context.clock.Now()) {}

  Result<kube::Action> Run();
  Result<kube::Action> Finalize();

 private:
  const kube::Store& Cache(const kube::ResourceType& type) const {
    return context_.caches.Of(type);
  }
  void ReadSiblings();
  // The public key the ModelVersion's Secret holds, or why it cannot be read.
  Result<std::string> PublicKey(const api::ModelVersion& mv) const;
  Observed Observe(const Fleet& fleet);
  void ObserveNodes(const Fleet& fleet, Observed& observed) const;
  void ObserveWorkload(Observed& observed) const;

  Status ApplyNodes(const Fleet& fleet, const api::ModelVersionStatus& own_status,
                    bool excluding_self);
  Status WriteModelNode(const std::string& node, const std::optional<api::NodeModel>& entry);
  Status ApplyNodeLabels(const Fleet& fleet, const std::set<std::string>& kept_versions);
  Status ApplyWorkload(const Decision& decision);
  // Points the user's Deployment at a version and scales it, as decided.
  Status ApplyStable(const Decision& decision);
  // Pins `service` to `version`'s pods ("" removes the pin).
  Status PinService(const std::string& service, const std::string& version);
  // The new version's Deployment: the canary, or blue-green's green one.
  std::string TrackDeploymentName() const;
  Status EnsureTrack(int32_t replicas);
  Result<bool> WriteStatus(Decision& decision, const Observed& observed);
  void Emit(const Decision& decision);

  // What a written decision tells the metrics: transitions, finished steps.
  void Measure(const Decision& decision) const;

  ReconcileContext& context_;
  RolloutMetrics* const metrics_;
  api::ModelVersion mv_;
  kube::ObjectPtr object_;
  const api::TimePoint now_;
  std::vector<Sibling> siblings_;  // every parsable ModelVersion of the model, this one included
  std::optional<std::pair<std::string, std::string>> blocked_;
};

void Pass::ReadSiblings() {
  for (const kube::ObjectPtr& object : Cache(kube::types::ModelVersions()).List()) {
    if (kube::StringField(kube::ObjectField(*object, "spec"), "model") != mv_.spec.model) continue;
    if (kube::ObjectKey(*object) == mv_.metadata.Key()) {
      siblings_.push_back({mv_, object_});
      continue;
    }
    auto parsed = api::ParseModelVersion(*object);
    if (parsed && !parsed->metadata.deletion_timestamp) {
      siblings_.push_back({std::move(*parsed), object});
    }
  }
}

Result<std::string> Pass::PublicKey(const api::ModelVersion& mv) const {
  const auto& ref = mv.spec.source.public_key_secret;
  if (!ref) return std::string();
  const kube::ObjectPtr secret =
      Cache(kube::types::Secrets()).Get(kube::ObjectKey(mv.metadata.namespace_name, ref->name));
  if (!secret) {
    return MakeError(ErrorCode::kNotFound,
                     "Secret " + mv.metadata.namespace_name + "/" + ref->name +
                         " not found: create it with the publisher's public key under key " +
                         ref->key + " (kubectl create secret generic " + ref->name +
                         " --from-file=" + ref->key + "=public.key)");
  }
  const std::string encoded = kube::StringField(kube::ObjectField(*secret, "data"), ref->key);
  auto decoded = kube::DecodeBase64(encoded);
  if (encoded.empty() || !decoded || decoded->empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "Secret " + mv.metadata.namespace_name + "/" + ref->name + " has no key " +
                         ref->key + ": add the publisher's public key under that key");
  }
  return *decoded;
}

Observed Pass::Observe(const Fleet& fleet) {
  Observed observed;
  observed.now = now_;
  // Conflicting content for one version: the later ModelVersion fails.
  for (const Sibling& other : siblings_) {
    const api::ModelVersion& o = other.mv;
    if (o.metadata.Key() == mv_.metadata.Key() || o.spec.version != mv_.spec.version) continue;
    if (!CreatedBefore(o, mv_)) continue;
    if (o.spec.source.manifest_digest && mv_.spec.source.manifest_digest &&
        *o.spec.source.manifest_digest != *mv_.spec.source.manifest_digest) {
      observed.blocked = {"DigestConflict",
                          Describe(o) + " already names version " + mv_.spec.version +
                              " with manifestDigest " + *o.spec.source.manifest_digest +
                              "; the same model and version must have the same content on "
                              "every node: publish this content as a new version"};
      return observed;
    }
  }
  if (auto key = PublicKey(mv_); !key) {
    observed.blocked = {
        key.error().code == ErrorCode::kNotFound ? "SecretNotFound" : "PublicKeyNotFound",
        key.error().message};
  }
  // The version that serves now, and whether something newer took over.
  const api::ModelVersion* stable = nullptr;
  for (const Sibling& other : siblings_) {
    const api::ModelVersion& o = other.mv;
    if (o.metadata.namespace_name != mv_.metadata.namespace_name) continue;
    if (o.metadata.Key() == mv_.metadata.Key()) continue;
    if (IsPromotedPhase(PhaseOf(o)) && o.status.promoted_time &&
        (!stable || *o.status.promoted_time > *stable->status.promoted_time)) {
      stable = &o;
    }
  }
  if (stable) observed.stable_version = stable->spec.version;
  for (const Sibling& other : siblings_) {
    const api::ModelVersion& o = other.mv;
    if (o.metadata.namespace_name == mv_.metadata.namespace_name &&
        o.metadata.Key() != mv_.metadata.Key() && IsRollingOut(o)) {
      observed.other_rollout_running = true;
    }
  }
  const Phase phase = PhaseOf(mv_);
  if (IsPromotedPhase(phase)) {
    if (stable && mv_.status.promoted_time &&
        *stable->status.promoted_time > *mv_.status.promoted_time) {
      observed.superseded_by = "superseded by " + Describe(*stable) + ", promoted later";
    }
  } else if (IsRollingOut(mv_)) {
    for (const Sibling& other : siblings_) {
      const api::ModelVersion& o = other.mv;
      if (o.metadata.namespace_name != mv_.metadata.namespace_name) continue;
      if (o.metadata.Key() == mv_.metadata.Key() || !IsRollingOut(o)) continue;
      if (CreatedBefore(mv_, o)) {
        observed.superseded_by = "superseded by " + Describe(o) +
                                 ", applied before this version was promoted; traffic goes "
                                 "from the stable version to the newest";
        break;
      }
    }
  }
  if (!observed.blocked && mv_.spec.serving) {
    const std::string key =
        kube::ObjectKey(mv_.metadata.namespace_name, mv_.spec.serving->deployment);
    if (!Cache(kube::types::Deployments()).Get(key)) {
      observed.blocked = {"DeploymentNotFound",
                          "Deployment " + key +
                              " not found: create the serving Deployment, or correct "
                              "spec.serving.deployment"};
    }
  }
  if (!observed.blocked && mv_.spec.blue_green()) {
    // Blue-green moves traffic by the Services' selectors: both must exist.
    const std::optional<std::string>& preview = mv_.spec.blue_green()->preview_service;
    for (const auto& [service, field] :
         {std::pair(mv_.spec.serving->service, "spec.serving.service"),
          std::pair(preview, "spec.strategy.blueGreen.previewService")}) {
      if (!service) continue;
      const std::string key = kube::ObjectKey(mv_.metadata.namespace_name, *service);
      if (!Cache(kube::types::Services()).Get(key)) {
        observed.blocked = {"ServiceNotFound", "Service " + key +
                                                   " not found: create it (selecting the "
                                                   "serving pods), or correct " +
                                                   field};
        break;
      }
    }
  }
  ObserveNodes(fleet, observed);
  ObserveWorkload(observed);
  return observed;
}

void Pass::ObserveNodes(const Fleet& fleet, Observed& observed) const {
  const std::string& model = mv_.spec.model;
  const std::string& version = mv_.spec.version;
  std::vector<std::string> failed, stale, unhealthy;
  int staging = 0;
  for (const FleetNode* node : fleet.Selected(mv_.spec.node_selector)) {
    ++observed.nodes.desired;
    if (node->model_node.HoldsReady(model, version)) {
      ++observed.nodes.ready;
      continue;
    }
    const api::HeldVersion* held = node->model_node.status.Find(model, version);
    if (held && held->state == api::VersionState::kFailed) {
      ++observed.nodes.failed;
      failed.push_back(node->name + (held->message.empty() ? "" : " (" + held->message + ")"));
    } else if (!node->heartbeat_fresh) {
      stale.push_back(node->name);
    } else if (!node->gpus_healthy) {
      unhealthy.push_back(node->name);
    } else {
      const api::NodeModel* entry = node->model_node.spec.Find(model);
      if (entry && entry->Find(version)) ++staging;
    }
  }
  auto join = [](const std::vector<std::string>& names) {
    std::string text;
    for (size_t i = 0; i < names.size() && i < 5; ++i) text += (i ? ", " : "") + names[i];
    if (names.size() > 5) text += ", and " + std::to_string(names.size() - 5) + " more";
    return text;
  };
  std::string summary = std::to_string(observed.nodes.ready) + " of " +
                        std::to_string(observed.nodes.desired) + " nodes ready";
  if (staging) summary += ", " + std::to_string(staging) + " staging";
  if (!failed.empty()) summary += "; failed: " + join(failed);
  if (!stale.empty()) summary += "; skipped, heartbeat stale: " + join(stale);
  if (!unhealthy.empty()) summary += "; skipped, GPUs unhealthy: " + join(unhealthy);
  const int32_t min_ready = mv_.spec.staging.min_ready_nodes;
  if (observed.nodes.desired < min_ready) {
    summary += "; waiting for " + std::to_string(min_ready) +
               " nodes (spec.staging.minReadyNodes) to match spec.nodeSelector";
  }
  observed.staging_summary = summary;
  if (!failed.empty() && observed.nodes.desired - observed.nodes.failed < min_ready) {
    observed.staging_failure = "staging failed on " + std::to_string(failed.size()) +
                               " nodes, fewer than minReadyNodes (" + std::to_string(min_ready) +
                               ") can hold the version: " + join(failed);
  }
}

void Pass::ObserveWorkload(Observed& observed) const {
  if (!mv_.spec.serving) return;
  const std::string& ns = mv_.metadata.namespace_name;
  const kube::Store& deployments = Cache(kube::types::Deployments());
  if (auto stable = deployments.Get(kube::ObjectKey(ns, mv_.spec.serving->deployment))) {
    observed.stable = api::ReadDeploymentProgress(*stable);
    const kube::Json& pod_template =
        kube::ObjectField(kube::ObjectField(*stable, "spec"), "template");
    observed.stable_points_at = TemplateVersion(pod_template);
    observed.stable_template_pointed =
        TemplatePointedAt(pod_template, mv_.spec.model, observed.stable_points_at);
    observed.fixed_replicas = FixedReplicas(*stable);
  }
  auto canary = deployments.Get(kube::ObjectKey(ns, TrackDeploymentName()));
  if (canary && kube::ControllerKeyOf(*canary, "ModelVersion") == mv_.metadata.Key()) {
    observed.canary = api::ReadDeploymentProgress(*canary);
  }
  for (const kube::ObjectPtr& pod : Cache(kube::types::Pods()).List()) {
    if (kube::Namespace(*pod) != ns) continue;
    const auto labels = kube::Labels(*pod);
    auto owner = labels.find(std::string(kModelVersionLabel));
    if (owner == labels.end() || owner->second != mv_.metadata.name) continue;
    const std::string node_name = kube::StringField(kube::ObjectField(*pod, "spec"), "nodeName");
    if (node_name.empty()) {
      if (auto why = UnschedulableMessage(*pod); why && !observed.pods_unschedulable) {
        observed.pods_unschedulable = "pod " + kube::Name(*pod) + " cannot be scheduled: " + *why;
      }
      continue;
    }
    // A canary pod on a node whose GPUs turned unhealthy fails the rollout.
    if (observed.canary_node_failure) continue;
    const kube::ObjectPtr model_node = Cache(kube::types::ModelNodes()).Get(node_name);
    if (!model_node) continue;
    auto parsed = api::ParseModelNode(*model_node);
    if (!parsed || parsed->GpusHealthy()) continue;
    std::string reasons;
    for (const api::GpuStatus& gpu : parsed->status.gpus) {
      for (const std::string& reason : gpu.reasons) {
        reasons +=
            (reasons.empty() ? "" : "; ") + ("GPU " + std::to_string(gpu.index) + ": " + reason);
      }
    }
    observed.canary_node_failure = "node " + node_name + " running canary pod " + kube::Name(*pod) +
                                   " reports unhealthy GPUs" +
                                   (reasons.empty() ? "" : " (" + reasons + ")");
  }
}

Status Pass::ApplyNodes(const Fleet& fleet, const api::ModelVersionStatus& own_status,
                        bool excluding_self) {
  // Which versions of the model nodes keep: every one still rolling out, and
  // the promoted ones newest first up to keepVersions (the serving one counts).
  std::vector<const Sibling*> promoted, rolling;
  for (const Sibling& sibling : siblings_) {
    const bool self = sibling.mv.metadata.Key() == mv_.metadata.Key();
    if (self && excluding_self) continue;
    api::ModelVersion view = sibling.mv;
    if (self) view.status = own_status;
    if (view.status.promoted_time &&
        (IsPromotedPhase(PhaseOf(view)) || PhaseOf(view) == Phase::kSuperseded)) {
      promoted.push_back(&sibling);
    } else if (IsRollingOut(view)) {
      rolling.push_back(&sibling);
    }
  }
  auto promoted_time = [&](const Sibling* s) {
    return s->mv.metadata.Key() == mv_.metadata.Key() ? *own_status.promoted_time
                                                      : *s->mv.status.promoted_time;
  };
  std::sort(promoted.begin(), promoted.end(), [&](const Sibling* a, const Sibling* b) {
    return promoted_time(a) > promoted_time(b);
  });
  ModelPlanInput input;
  input.model = mv_.spec.model;
  std::set<std::string> versions;
  auto keep = [&](const api::ModelVersion& mv) {
    if (versions.contains(mv.spec.version)) return;
    auto key = PublicKey(mv);
    if (!key) return;  // reported on that ModelVersion's own status
    versions.insert(mv.spec.version);
    input.versions.push_back(
        {.version = mv.spec.version,
         .source = {.repository = mv.spec.source.repository,
                    .manifest_digest = mv.spec.source.manifest_digest,
                    .public_key = key->empty() ? std::nullopt : std::optional<std::string>(*key),
                    .delta_from = mv.spec.source.delta_from},
         .ref = {.namespace_name = mv.metadata.namespace_name, .name = mv.metadata.name},
         .node_selector = mv.spec.node_selector,
         .max_concurrent_nodes = mv.spec.staging.max_concurrent_nodes});
  };
  if (!promoted.empty()) {
    input.serving_version = promoted.front()->mv.spec.version;
    const size_t keep_count =
        static_cast<size_t>(std::max(1, promoted.front()->mv.spec.rollback.keep_versions));
    for (size_t i = 0; i < promoted.size() && i < keep_count; ++i) keep(promoted[i]->mv);
  }
  for (const Sibling* sibling : rolling) keep(sibling->mv);

  // Nodes are independent: a wave of a thousand is written by a few threads
  // at once rather than one request after another (the client's QPS limit
  // still bounds the rate).
  const NodeChanges changes = PlanModel(input, fleet);
  std::vector<std::pair<std::string, std::optional<api::NodeModel>>> work(changes.begin(),
                                                                          changes.end());
  std::vector<Status> results(work.size());
  ParallelFor(work.size(), kNodeWriteThreads,
              [&](size_t i) { results[i] = WriteModelNode(work[i].first, work[i].second); });
  for (const Status& result : results) {
    if (!result) return result;
  }
  return ApplyNodeLabels(fleet, versions);
}

Status Pass::WriteModelNode(const std::string& node, const std::optional<api::NodeModel>& entry) {
  // The spec's model list is replaced whole (a patch cannot change one
  // element of a list by key), so the write carries the generation it was
  // based on and is redone on a fresh read when another writer won. The first
  // attempt is based on the cache, which the plan was made from: a live read
  // before every write would double the requests of a wave.
  kube::ObjectPtr cached = Cache(kube::types::ModelNodes()).Get(node);
  bool first_attempt = true;
  auto attempt = [&]() -> Result<kube::Json> {
    kube::Json current;
    if (first_attempt && cached) {
      current = *cached;
    } else {
      auto fresh = context_.writer.Get(kube::types::ModelNodes(), "", node);
      if (!fresh) return fresh.error();
      current = std::move(*fresh);
    }
    first_attempt = false;
    auto parsed = api::ParseModelNode(current);
    if (!parsed) return parsed.error();
    api::ModelNodeSpec spec = parsed->spec;
    auto it = std::find_if(spec.models.begin(), spec.models.end(),
                           [&](const api::NodeModel& m) { return m.model == mv_.spec.model; });
    if (entry) {
      if (it != spec.models.end()) {
        if (*it == *entry) return current;
        *it = *entry;
      } else {
        spec.models.push_back(*entry);
      }
    } else {
      if (it == spec.models.end()) return current;
      spec.models.erase(it);
    }
    // The precondition is the spec's generation, not the resourceVersion:
    // the agent's heartbeats move the latter every few seconds without
    // touching the spec, and would fail most writes based on the cache.
    kube::Json patch = kube::Json::array();
    patch.push_back(
        {{"op", "test"}, {"path", "/metadata/generation"}, {"value", parsed->metadata.generation}});
    patch.push_back({{"op", "add"}, {"path", "/spec"}, {"value", spec.ToJson()}});
    return context_.writer.Patch(kube::types::ModelNodes(), "", node, kube::PatchType::kJson,
                                 patch);
  };
  auto written = kube::RetryOnConflict(attempt);
  if (!written) return written.error().Wrap("write ModelNode " + node);
  return OkStatus();
}

Status Pass::ApplyNodeLabels(const Fleet& fleet, const std::set<std::string>& kept_versions) {
  // Labels of every version of the model that any sibling names, so that
  // labels of versions no longer kept are removed too.
  std::set<std::string> known;
  for (const Sibling& sibling : siblings_)
    known.insert(ReadyLabel(mv_.spec.model, sibling.mv.spec.version));
  const std::string model_prefix = std::string(kReadyLabelPrefix) + mv_.spec.model + "_";
  std::vector<std::pair<std::string, kube::Json>> work;  // node -> label changes
  for (const FleetNode& node : fleet.nodes()) {
    const api::NodeModel* entry = node.model_node.spec.Find(mv_.spec.model);
    kube::Json changes = kube::Json::object();
    std::set<std::string> wanted;
    for (const std::string& version : kept_versions) {
      if (entry && entry->Find(version) && node.model_node.HoldsReady(mv_.spec.model, version) &&
          node.Eligible()) {
        wanted.insert(ReadyLabel(mv_.spec.model, version));
      }
    }
    for (const std::string& label : wanted) {
      if (!node.labels.contains(label)) changes[label] = "true";
    }
    for (const auto& [label, value] : node.labels) {
      const bool ours = label.rfind(model_prefix, 0) == 0 || known.contains(label);
      if (ours && !wanted.contains(label)) changes[label] = nullptr;
    }
    if (!changes.empty()) work.emplace_back(node.name, std::move(changes));
  }
  // As with the ModelNodes: a thousand nodes turning Ready at once are
  // labelled by a few threads, not one request after another.
  std::vector<Status> results(work.size());
  ParallelFor(work.size(), kNodeWriteThreads, [&](size_t i) {
    auto patched =
        context_.writer.Patch(kube::types::Nodes(), "", work[i].first, kube::PatchType::kMerge,
                              {{"metadata", {{"labels", work[i].second}}}});
    if (!patched) results[i] = patched.error().Wrap("label node " + work[i].first);
  });
  for (const Status& result : results) {
    if (!result) return result;
  }
  return OkStatus();
}

Status Pass::ApplyStable(const Decision& decision) {
  const std::string& ns = mv_.metadata.namespace_name;
  const std::string& name = mv_.spec.serving->deployment;
  auto object = Cache(kube::types::Deployments()).Get(kube::ObjectKey(ns, name));
  if (!object) return OkStatus();  // reported as DeploymentNotFound
  kube::Json deployment = *object;
  if (decision.point_stable_at) {
    PointTemplateAt(deployment["spec"]["template"], mv_.spec.model, *decision.point_stable_at);
  }
  if (decision.stable_scale) {
    ScaleWithinCapacity(deployment, decision.stable_scale->replicas,
                        decision.stable_scale->original);
  }
  if (deployment == *object) return OkStatus();
  auto updated = context_.writer.Update(kube::types::Deployments(), deployment);
  if (!updated) return updated.error().Wrap("update Deployment " + ns + "/" + name);
  return OkStatus();
}

Status Pass::PinService(const std::string& service, const std::string& version) {
  const std::string& ns = mv_.metadata.namespace_name;
  auto object = Cache(kube::types::Services()).Get(kube::ObjectKey(ns, service));
  // Blue-green blocks on a missing Service; a canary rollout has nothing to unpin.
  if (!object) return OkStatus();
  if (ServicePinnedVersion(*object) == (version.empty() ? "" : VersionLabelValue(version))) {
    return OkStatus();
  }
  auto patched = context_.writer.Patch(kube::types::Services(), ns, service,
                                       kube::PatchType::kMerge, PinServicePatch(version));
  if (!patched) return patched.error().Wrap("select version " + version + " in Service " + service);
  return OkStatus();
}

std::string Pass::TrackDeploymentName() const {
  return TrackName(mv_.spec.serving->deployment,
                   mv_.spec.blue_green() ? kGreenTrack : kCanaryTrack);
}

Status Pass::EnsureTrack(int32_t replicas) {
  const std::string& ns = mv_.metadata.namespace_name;
  const std::string name = TrackDeploymentName();
  const kube::Store& deployments = Cache(kube::types::Deployments());
  const kube::ObjectPtr existing = deployments.Get(kube::ObjectKey(ns, name));
  const bool ours =
      existing && kube::ControllerKeyOf(*existing, "ModelVersion") == mv_.metadata.Key();
  if (replicas == 0) {
    if (!ours) return OkStatus();
    // Scaled to zero first and deleted once its pods are gone, so that the
    // pods of a capacity-bound rollout go before the stable ones come back.
    if (api::ReadDeploymentProgress(*existing).replicas > 0) {
      if (kube::IntField(kube::ObjectField(*existing, "spec"), "replicas", 1) == 0) {
        return OkStatus();
      }
      kube::Json scaled = *existing;
      scaled["spec"]["replicas"] = 0;
      auto updated = context_.writer.Update(kube::types::Deployments(), scaled);
      if (!updated) return updated.error().Wrap("scale Deployment " + ns + "/" + name + " to 0");
      return OkStatus();
    }
    kube::DeleteOptions options;
    options.precondition_uid = kube::Uid(*existing);
    options.propagation_policy = "Background";
    Status deleted = context_.writer.Delete(kube::types::Deployments(), ns, name, options);
    if (!deleted && deleted.error().code != ErrorCode::kNotFound) return deleted;
    return OkStatus();
  }
  auto stable = deployments.Get(kube::ObjectKey(ns, mv_.spec.serving->deployment));
  if (!stable) return OkStatus();
  TrackSpec spec;
  spec.track = mv_.spec.blue_green() ? kGreenTrack : kCanaryTrack;
  spec.model = mv_.spec.model;
  spec.version = mv_.spec.version;
  spec.replicas = replicas;
  if (const api::CanaryStrategy* canary = mv_.spec.canary()) {
    spec.pod_labels = canary->pod_labels;
    spec.pod_annotations = canary->pod_annotations;
  }
  kube::Json wanted = BuildTrackDeployment(*stable, *object_, spec);
  if (!existing) {
    auto created = context_.writer.Create(kube::types::Deployments(), wanted);
    if (!created && created.error().code != ErrorCode::kAlreadyExists) {
      return created.error().Wrap("create Deployment " + ns + "/" + name);
    }
    return OkStatus();
  }
  if (TrackDeploymentMatches(*existing, wanted)) return OkStatus();
  // Taken over from an earlier rollout of the model, or resized.
  wanted["metadata"]["resourceVersion"] = kube::ResourceVersionOf(*existing);
  auto updated = context_.writer.Update(kube::types::Deployments(), wanted);
  if (!updated) return updated.error().Wrap("update Deployment " + ns + "/" + name);
  return OkStatus();
}

Status Pass::ApplyWorkload(const Decision& decision) {
  if (!mv_.spec.serving || blocked_) return OkStatus();
  if (Status stable = ApplyStable(decision); !stable) return stable;
  // The Services before the green Deployment: the active one is pinned to
  // the stable pods before green pods it would also select exist, and back
  // to them before green pods go.
  if (decision.active_service_version && mv_.spec.serving->service) {
    Status pinned = PinService(*mv_.spec.serving->service, *decision.active_service_version);
    if (!pinned) return pinned;
  }
  const api::BlueGreenStrategy* blue_green = mv_.spec.blue_green();
  if (decision.preview_service_version && blue_green && blue_green->preview_service) {
    Status pinned = PinService(*blue_green->preview_service, *decision.preview_service_version);
    if (!pinned) return pinned;
  }
  return EnsureTrack(decision.canary_replicas);
}

Result<bool> Pass::WriteStatus(Decision& decision, const Observed& observed) {
  api::ModelVersion base = mv_;
  std::string resource_version = mv_.metadata.resource_version;
  for (int attempt = 1;; ++attempt) {
    if (decision.status.ToJson() == base.status.ToJson()) return false;
    kube::Json patch = api::StatusPatch(base.status, decision.status, resource_version);
    auto written =
        context_.writer.Patch(kube::types::ModelVersions(), base.metadata.namespace_name,
                              base.metadata.name, kube::PatchType::kMerge, patch, "status");
    if (written) return true;
    if (written.error().code != ErrorCode::kConflict || attempt >= kStatusWriteAttempts) {
      return written.error().Wrap("write status of " + base.metadata.Key());
    }
    // Someone (a user's promote or abort) wrote meanwhile: decide again on
    // what they wrote, so that their request is acted upon, not overwritten.
    auto fresh = context_.writer.Get(kube::types::ModelVersions(), base.metadata.namespace_name,
                                     base.metadata.name);
    if (!fresh) return fresh.error().Wrap("re-read " + base.metadata.Key());
    auto parsed = api::ParseModelVersion(*fresh);
    if (!parsed) return parsed.error();
    base = std::move(*parsed);
    resource_version = base.metadata.resource_version;
    decision = Decide(base, observed);
  }
}

void Pass::Emit(const Decision& decision) {
  const api::ModelVersionStatus& status = decision.status;
  for (const Event& event : decision.events) {
    context_.events.Record(*object_,
                           event.warning ? kube::EventType::kWarning : kube::EventType::kNormal,
                           event.reason, event.reason, event.message);
    Log(context_.log, event.warning ? spdlog::level::warn : spdlog::level::info, event.message,
        {{"object", mv_.metadata.Key()},
         {"model", mv_.spec.model},
         {"version", mv_.spec.version},
         {"reason", event.reason},
         {"phase", api::PhaseName(status.phase.value_or(api::Phase::kPending))},
         {"step", static_cast<int64_t>(status.current_step.value_or(0))}});
  }
}

void Pass::Measure(const Decision& decision) const {
  if (!metrics_) return;
  for (const Event& event : decision.events) {
    metrics_->ObserveTransition(decision.status.phase.value_or(Phase::kPending), event.reason);
  }
  const api::CanaryStrategy* canary = mv_.spec.canary();
  const auto before = mv_.status.current_step;
  const auto after = decision.status.current_step;
  if (canary && before && after && *after == *before + 1 && mv_.status.step_start_time &&
      static_cast<size_t>(*before) < canary->steps.size()) {
    metrics_->ObserveStep(canary->steps[*before], now_ - *mv_.status.step_start_time);
  }
}

Result<kube::Action> Pass::Run() {
  ReadSiblings();
  const Fleet fleet =
      Fleet::Read(Cache(kube::types::ModelNodes()), Cache(kube::types::Nodes()), now_);
  const Observed observed = Observe(fleet);
  blocked_ = observed.blocked;
  Decision decision = Decide(mv_, observed);
  // The world first, then the status that describes it: a failed write is
  // retried by the next reconcile from the same status, so no transition is
  // recorded for something that did not happen.
  if (Status nodes = ApplyNodes(fleet, decision.status, /*excluding_self=*/false); !nodes) {
    return nodes.error();
  }
  if (Status workload = ApplyWorkload(decision); !workload) return workload.error();
  auto wrote = WriteStatus(decision, observed);
  if (!wrote) return wrote.error();
  if (*wrote) {
    Emit(decision);
    Measure(decision);
  }
  milliseconds next = decision.requeue_after.value_or(kResync);
  return kube::Action::RequeueAfter(std::min(next, kResync));
}

Result<kube::Action> Pass::Finalize() {
  ReadSiblings();
  const Fleet fleet =
      Fleet::Read(Cache(kube::types::ModelNodes()), Cache(kube::types::Nodes()), now_);
  // The nodes drop this version (never the one they serve), the canary goes.
  if (Status nodes = ApplyNodes(fleet, mv_.status, /*excluding_self=*/true); !nodes) {
    return nodes.error();
  }
  if (mv_.spec.serving) {
    // A blue-green version deleted after its switch leaves the active
    // Service on pods that are about to go: it goes back to the stable ones.
    if (mv_.spec.blue_green() && mv_.spec.serving->service && !IsPromotedPhase(PhaseOf(mv_))) {
      if (auto stable = Observe(fleet).stable_version) {
        if (Status pinned = PinService(*mv_.spec.serving->service, *stable); !pinned) {
          return pinned.error();
        }
      }
    }
    if (Status track = EnsureTrack(0); !track) return track.error();
  }
  kube::Json object = *object_;
  kube::Json kept = kube::Json::array();
  for (const std::string& finalizer : mv_.metadata.finalizers) {
    if (finalizer != kFinalizer) kept.push_back(finalizer);
  }
  object["metadata"]["finalizers"] = kept;
  auto updated = context_.writer.Update(kube::types::ModelVersions(), object);
  if (!updated && updated.error().code != ErrorCode::kNotFound) {
    return updated.error().Wrap("remove finalizer of " + mv_.metadata.Key());
  }
  return kube::Action::Done();
}

}  // namespace

std::vector<kube::ResourceType> WatchedTypes() {
  return {kube::types::ModelVersions(), kube::types::ModelNodes(), kube::types::Nodes(),
          kube::types::Deployments(),   kube::types::Secrets(),    kube::types::Pods(),
          kube::types::Services()};
}

ModelVersionReconciler::ModelVersionReconciler(ReconcileContext context, RolloutMetrics* metrics)
    : context_(std::move(context)), metrics_(metrics) {}

std::mutex& ModelVersionReconciler::LockFor(const std::string& model) {
  std::lock_guard lock(locks_mutex_);
  auto& slot = model_locks_[model];
  if (!slot) slot = std::make_unique<std::mutex>();
  return *slot;
}

Result<kube::Action> ModelVersionReconciler::Reconcile(const std::string& key) {
  const kube::ObjectPtr object = context_.caches.Of(kube::types::ModelVersions()).Get(key);
  if (!object) return kube::Action::Done();  // deleted; the finalizer did the cleaning
  auto parsed = api::ParseModelVersion(*object);
  if (!parsed) {
    // The API server's schema should have refused it; say so in the status
    // and wait for the next edit instead of retrying what cannot succeed.
    const std::string message = "invalid ModelVersion: " + parsed.error().message;
    if (kube::StringField(kube::ObjectField(*object, "status"), "message") != message) {
      auto [ns, name] = kube::SplitObjectKey(key);
      kube::Json patch = {{"status", {{"phase", "Failed"}, {"message", message}}}};
      auto written = context_.writer.Patch(kube::types::ModelVersions(), ns, name,
                                           kube::PatchType::kMerge, patch, "status");
      if (!written) return written.error();
      context_.events.Record(*object, kube::EventType::kWarning, "InvalidSpec", "Validate",
                             message);
    }
    return kube::Action::Done();
  }
  std::lock_guard model_lock(LockFor(parsed->spec.model));
  const bool has_finalizer =
      std::find(parsed->metadata.finalizers.begin(), parsed->metadata.finalizers.end(),
                kFinalizer) != parsed->metadata.finalizers.end();
  Pass pass(context_, metrics_, *parsed, object);
  if (parsed->metadata.deletion_timestamp) {
    if (!has_finalizer) return kube::Action::Done();
    return pass.Finalize();
  }
  if (!has_finalizer) {
    // First sight: a finalizer, so a deletion cleans nodes and canary up. The
    // update's watch event brings the next reconcile.
    kube::Json updated = *object;
    updated["metadata"]["finalizers"].push_back(kFinalizer);
    auto written = context_.writer.Update(kube::types::ModelVersions(), updated);
    if (!written) return written.error().Wrap("add finalizer to " + key);
    return kube::Action::Done();
  }
  return pass.Run();
}

}  // namespace ferry::operator_
