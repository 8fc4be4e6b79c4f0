#include "lib/api/model_version.h"

#include <array>
#include <cctype>

#include "lib/common/merge_patch.h"
#include "lib/common/utc_time.h"

namespace ferry::api {

namespace {

constexpr std::array<std::pair<Phase, std::string_view>, 10> kPhaseNames{{
    {Phase::kPending, "Pending"},
    {Phase::kStaging, "Staging"},
    {Phase::kProgressing, "Progressing"},
    {Phase::kPaused, "Paused"},
    {Phase::kPromoted, "Promoted"},
    {Phase::kDegraded, "Degraded"},
    {Phase::kAborted, "Aborted"},
    {Phase::kRolledBack, "RolledBack"},
    {Phase::kSuperseded, "Superseded"},
    {Phase::kFailed, "Failed"},
}};

Result<int32_t> Int32In(const JsonView& object, std::string_view key, int32_t fallback, int64_t min,
                        int64_t max) {
  auto member = object.Optional(key);
  if (!member) return member.error();
  if (!*member) return fallback;
  auto value = (*member)->IntIn(min, max);
  if (!value) return value.error();
  return static_cast<int32_t>(*value);
}

Result<std::optional<int32_t>> OptionalInt32In(const JsonView& object, std::string_view key,
                                               int64_t min, int64_t max) {
  auto member = object.Optional(key);
  if (!member) return member.error();
  if (!*member) return std::optional<int32_t>();
  auto value = (*member)->IntIn(min, max);
  if (!value) return value.error();
  return std::optional<int32_t>(static_cast<int32_t>(*value));
}

Result<VersionSource> ParseSource(const JsonView& source) {
  FirstError first;
  VersionSource parsed;
  parsed.repository = first(source.RequiredString("repository"));
  parsed.manifest_digest = first(source.OptionalString("manifestDigest"));
  parsed.delta_from = first(source.StringsOr("deltaFrom"));
  auto secret = first(source.Optional("publicKeySecretRef"));
  if (secret) {
    SecretKeyRef ref;
    ref.name = first(secret->RequiredString("name"));
    ref.key = first(secret->StringOr("key", "public.key"));
    parsed.public_key_secret = ref;
  }
  if (!first.ok()) return first.error();
  if (!parsed.manifest_digest && !parsed.public_key_secret) {
    return source.Invalid("needs manifestDigest, publicKeySecretRef, or both");
  }
  return parsed;
}

Result<CanaryStep> ParseStep(const JsonView& step) {
  if (Status known = step.OnlyKnown({"setWeight", "pause", "analysis"}); !known) {
    return known.error();
  }
  const int kinds = int{step.Has("setWeight")} + int{step.Has("pause")} + int{step.Has("analysis")};
  if (kinds != 1) return step.Invalid("set exactly one of setWeight, pause, analysis");
  FirstError first;
  if (step.Has("setWeight")) {
    SetWeightStep parsed{.weight = first(Int32In(step, "setWeight", 0, 0, 100))};
    if (!first.ok()) return first.error();
    return CanaryStep(parsed);
  }
  if (step.Has("pause")) {
    PauseStep parsed;
    auto pause = first(step.Required("pause"));
    if (!first.ok()) return first.error();
    if (auto duration = first(pause.Optional("duration"))) {
      auto text = first(duration->String());
      if (!first.ok()) return first.error();
      auto seconds = ParseDuration(text);
      if (!seconds) return duration->Invalid(seconds.error().message);
      parsed.duration = *seconds;
    }
    if (!first.ok()) return first.error();
    return CanaryStep(parsed);
  }
  auto analysis = first(step.Required("analysis"));
  if (!first.ok()) return first.error();
  auto webhook = first(analysis.Required("webhook"));
  if (!first.ok()) return first.error();
  AnalysisStep parsed;
  parsed.webhook.url = first(webhook.RequiredString("url"));
  parsed.webhook.timeout_seconds = first(Int32In(webhook, "timeoutSeconds", 30, 1, 3600));
  if (!first.ok()) return first.error();
  return CanaryStep(parsed);
}

Result<Strategy> ParseStrategy(const JsonView& strategy) {
  FirstError first;
  auto canary = first(strategy.Optional("canary"));
  auto blue_green = first(strategy.Optional("blueGreen"));
  if (!first.ok()) return first.error();
  if (canary.has_value() == blue_green.has_value()) {
    return strategy.Invalid("set exactly one of canary and blueGreen");
  }
  if (canary) {
    CanaryStrategy parsed;
    for (const JsonView& item : first(canary->ItemsOr("steps"))) {
      auto step = ParseStep(item);
      if (!step) return step.error();
      parsed.steps.push_back(*step);
    }
    if (auto metadata = first(canary->Optional("canaryMetadata"))) {
      parsed.pod_labels = first(metadata->StringMapOr("labels"));
      parsed.pod_annotations = first(metadata->StringMapOr("annotations"));
    }
    const std::string capacity = first(canary->StringOr("capacity", "surge"));
    parsed.progress_deadline_seconds =
        first(Int32In(*canary, "progressDeadlineSeconds", 600, 1, 86400));
    if (!first.ok()) return first.error();
    if (capacity == "surge") {
      parsed.capacity = Capacity::kSurge;
    } else if (capacity == "fixed") {
      parsed.capacity = Capacity::kFixed;
    } else {
      return canary->Required("capacity")
          ->Invalid("must be surge or fixed, got \"" + capacity + "\"");
    }
    return Strategy(parsed);
  }
  BlueGreenStrategy parsed;
  parsed.preview_service = first(blue_green->OptionalString("previewService"));
  parsed.auto_promotion_seconds =
      first(OptionalInt32In(*blue_green, "autoPromotionSeconds", 0, INT32_MAX));
  parsed.scale_down_delay_seconds =
      first(Int32In(*blue_green, "scaleDownDelaySeconds", 30, 0, INT32_MAX));
  parsed.progress_deadline_seconds =
      first(Int32In(*blue_green, "progressDeadlineSeconds", 600, 1, 86400));
  if (!first.ok()) return first.error();
  return Strategy(parsed);
}

}  // namespace

std::string_view PhaseName(Phase phase) {
  for (const auto& [value, name] : kPhaseNames) {
    if (value == phase) return name;
  }
  return "Unknown";
}

std::optional<Phase> ParsePhase(std::string_view name) {
  for (const auto& [value, phase_name] : kPhaseNames) {
    if (phase_name == name) return value;
  }
  return std::nullopt;
}

bool IsFinished(Phase phase) {
  return phase == Phase::kRolledBack || phase == Phase::kSuperseded || phase == Phase::kFailed;
}

Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return MakeError(ErrorCode::kInvalidArgument,
                     "\"" + std::string(text) +
                         "\" is not a duration: write hours, minutes and seconds in that "
                         "order, e.g. 30s, 10m, 1h30m");
  };
  if (text.empty()) return bad();
  int64_t total = 0;
  int last_unit = -1;  // index into "hms": units must come in that order, each once
  size_t i = 0;
  while (i < text.size()) {
    size_t digits = 0;
    int64_t value = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (++digits > 9) return bad();
      value = value * 10 + (text[i] - '0');
      ++i;
    }
    if (digits == 0 || i == text.size()) return bad();
    const std::string_view units = "hms";
    const size_t unit = units.find(text[i]);
    if (unit == std::string_view::npos || static_cast<int>(unit) <= last_unit) return bad();
    last_unit = static_cast<int>(unit);
    total += value * (unit == 0 ? 3600 : unit == 1 ? 60 : 1);
    ++i;
  }
  return std::chrono::seconds(total);
}

Result<ModelVersionSpec> ParseModelVersionSpec(const JsonView& spec) {
  FirstError first;
  ModelVersionSpec parsed;
  parsed.model = first(spec.RequiredString("model"));
  parsed.version = first(spec.RequiredString("version"));
  auto source = first(spec.Required("source"));
  if (!first.ok()) return first.error();
  auto parsed_source = ParseSource(source);
  if (!parsed_source) return parsed_source.error();
  parsed.source = std::move(*parsed_source);
  for (const JsonView& item : first(spec.ItemsOr("adapters"))) {
    parsed.adapters.push_back(
        {.name = first(item.RequiredString("name")), .path = first(item.RequiredString("path"))});
  }
  parsed.node_selector = first(spec.StringMapOr("nodeSelector"));
  if (auto staging = first(spec.Optional("staging"))) {
    parsed.staging.max_concurrent_nodes =
        first(Int32In(*staging, "maxConcurrentNodes", 4, 1, INT32_MAX));
    parsed.staging.min_ready_nodes = first(Int32In(*staging, "minReadyNodes", 1, 1, INT32_MAX));
  }
  if (auto serving = first(spec.Optional("serving"))) {
    Serving parsed_serving;
    parsed_serving.deployment = first(serving->RequiredString("deployment"));
    parsed_serving.service = first(serving->OptionalString("service"));
    if (auto route = first(serving->Optional("route"))) {
      parsed_serving.route = first(route->RequiredString("name"));
    }
    parsed.serving = std::move(parsed_serving);
  }
  if (auto rollback = first(spec.Optional("rollback"))) {
    parsed.rollback.on_failure = first(rollback->BoolOr("onFailure", true));
    parsed.rollback.keep_versions = first(Int32In(*rollback, "keepVersions", 2, 1, 16));
  }
  auto strategy = first(spec.Optional("strategy"));
  if (!first.ok()) return first.error();
  if (strategy) {
    auto parsed_strategy = ParseStrategy(*strategy);
    if (!parsed_strategy) return parsed_strategy.error();
    parsed.strategy = std::move(*parsed_strategy);
    if (!parsed.serving) return spec.Invalid("serving is required when strategy is set");
    if (parsed.blue_green() && !parsed.serving->service) {
      return spec.Invalid("strategy.blueGreen needs serving.service");
    }
  }
  return parsed;
}

Result<ModelVersionStatus> ParseModelVersionStatus(const JsonView& status) {
  FirstError first;
  ModelVersionStatus parsed;
  if (auto phase = first(status.OptionalString("phase"))) {
    parsed.phase = ParsePhase(*phase);
    if (!parsed.phase) return status.Required("phase")->Invalid("unknown phase \"" + *phase + "\"");
  }
  parsed.observed_generation = first(status.IntOr("observedGeneration", 0));
  parsed.current_step = first(OptionalInt32In(status, "currentStep", 0, INT32_MAX));
  parsed.step_start_time = first(OptionalTime(status, "stepStartTime"));
  parsed.canary_weight = first(OptionalInt32In(status, "canaryWeight", 0, 100));
  parsed.stable_version = first(status.OptionalString("stableVersion"));
  parsed.promoted_time = first(OptionalTime(status, "promotedTime"));
  if (auto nodes = first(status.Optional("nodes"))) {
    parsed.nodes = NodeCounts{.desired = first(Int32In(*nodes, "desired", 0, 0, INT32_MAX)),
                              .ready = first(Int32In(*nodes, "ready", 0, 0, INT32_MAX)),
                              .failed = first(Int32In(*nodes, "failed", 0, 0, INT32_MAX))};
  }
  parsed.conditions = first(ParseConditions(status));
  if (auto promote = first(status.OptionalString("promote"))) {
    if (*promote == "step") {
      parsed.promote = PromoteRequest::kStep;
    } else if (*promote == "full") {
      parsed.promote = PromoteRequest::kFull;
    } else {
      return status.Required("promote")->Invalid("must be step or full, got \"" + *promote + "\"");
    }
  }
  parsed.abort = first(status.BoolOr("abort", false));
  parsed.message = first(status.StringOr("message", ""));
  for (const JsonView& item : first(status.ItemsOr("history"))) {
    HistoryEntry entry;
    entry.time = first(OptionalTime(item, "time")).value_or(TimePoint{});
    const std::string phase = first(item.RequiredString("phase"));
    entry.step = first(OptionalInt32In(item, "step", 0, INT32_MAX));
    entry.weight = first(OptionalInt32In(item, "weight", 0, 100));
    entry.reason = first(item.StringOr("reason", ""));
    entry.message = first(item.StringOr("message", ""));
    if (!first.ok()) return first.error();
    auto known = ParsePhase(phase);
    if (!known) return item.Required("phase")->Invalid("unknown phase \"" + phase + "\"");
    entry.phase = *known;
    parsed.history.push_back(std::move(entry));
  }
  if (!first.ok()) return first.error();
  return parsed;
}

Result<ModelVersion> ParseModelVersion(const Json& object) {
  JsonView root(object, "");
  FirstError first;
  ModelVersion parsed;
  auto metadata = first(root.Required("metadata"));
  auto spec = first(root.Required("spec"));
  if (!first.ok()) return first.error();
  auto meta = ParseObjectMeta(metadata);
  if (!meta) return meta.error();
  parsed.metadata = std::move(*meta);
  auto parsed_spec = ParseModelVersionSpec(spec);
  if (!parsed_spec) return parsed_spec.error();
  parsed.spec = std::move(*parsed_spec);
  if (auto status = first(root.Optional("status"))) {
    auto parsed_status = ParseModelVersionStatus(*status);
    if (!parsed_status) return parsed_status.error();
    parsed.status = std::move(*parsed_status);
  }
  if (!first.ok()) return first.error();
  return parsed;
}

Json ModelVersionStatus::ToJson() const {
  Json out = Json::object();
  if (phase) out["phase"] = PhaseName(*phase);
  if (observed_generation > 0) out["observedGeneration"] = observed_generation;
  if (current_step) out["currentStep"] = *current_step;
  if (step_start_time) out["stepStartTime"] = FormatTime(*step_start_time);
  if (canary_weight) out["canaryWeight"] = *canary_weight;
  if (stable_version) out["stableVersion"] = *stable_version;
  if (promoted_time) out["promotedTime"] = FormatTime(*promoted_time);
  if (nodes) {
    out["nodes"] = {
        {"desired", nodes->desired}, {"ready", nodes->ready}, {"failed", nodes->failed}};
  }
  if (!conditions.empty()) out["conditions"] = ConditionsToJson(conditions);
  if (promote) out["promote"] = *promote == PromoteRequest::kStep ? "step" : "full";
  if (abort) out["abort"] = true;
  if (!message.empty()) out["message"] = message.substr(0, 4096);
  if (!history.empty()) {
    Json list = Json::array();
    for (const HistoryEntry& entry : history) {
      Json item = {{"time", FormatTime(entry.time)}, {"phase", PhaseName(entry.phase)}};
      if (entry.step) item["step"] = *entry.step;
      if (entry.weight) item["weight"] = *entry.weight;
      if (!entry.reason.empty()) item["reason"] = entry.reason.substr(0, 1024);
      if (!entry.message.empty()) item["message"] = entry.message.substr(0, 4096);
      list.push_back(std::move(item));
    }
    out["history"] = std::move(list);
  }
  return out;
}

void ModelVersionStatus::Record(HistoryEntry entry) {
  history.push_back(std::move(entry));
  if (history.size() > kMaxHistory) {
    history.erase(history.begin(), history.end() - kMaxHistory);
  }
}

Json StatusPatch(const ModelVersionStatus& before, const ModelVersionStatus& after,
                 const std::string& resource_version) {
  Json patch = {{"metadata", {{"resourceVersion", resource_version}}},
                {"status", MergePatchBetween(before.ToJson(), after.ToJson())}};
  return patch;
}

}  // namespace ferry::api
