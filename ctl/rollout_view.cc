#include "ctl/rollout_view.h"

#include <algorithm>
#include <cstdio>

#include "ctl/kubectl_table.h"
#include "lib/common/utc_time.h"

namespace ferry::ctl {
namespace {

using api::ModelNode;
using api::ModelVersion;

constexpr std::string_view kNone = "-";

std::string OrNone(const std::optional<int32_t>& value) {
  return value ? std::to_string(*value) : std::string(kNone);
}
std::string OrNone(const std::optional<std::string>& value) {
  return value && !value->empty() ? *value : std::string(kNone);
}
std::string OrNone(const std::optional<api::TimePoint>& value) {
  return value ? FormatTime(*value) : std::string(kNone);
}
std::string OrNone(const std::string& value) { return value.empty() ? std::string(kNone) : value; }

std::string PhaseText(const ModelVersion& mv) {
  return mv.status.phase ? std::string(api::PhaseName(*mv.status.phase)) : std::string(kNone);
}

// "1h30m" for 5400 s: the CRD's own duration form, largest unit first.
std::string DurationText(std::chrono::seconds duration) {
  const int64_t total = duration.count();
  const int64_t h = total / 3600, m = total % 3600 / 60, s = total % 60;
  std::string out;
  if (h > 0) out += std::to_string(h) + "h";
  if (m > 0) out += std::to_string(m) + "m";
  if (s > 0 || out.empty()) out += std::to_string(s) + "s";
  return out;
}

// "1/2", or nullopt when the rollout has no canary steps to count.
std::optional<std::string> StepCount(const ModelVersion& mv) {
  const api::CanaryStrategy* canary = mv.spec.canary();
  if (canary == nullptr || canary->steps.empty()) return std::nullopt;
  if (!mv.status.current_step) return std::string(kNone);
  return std::to_string(*mv.status.current_step) + "/" + std::to_string(canary->steps.size());
}

std::string NodeCountsText(const std::optional<api::NodeCounts>& nodes) {
  if (!nodes) return std::string(kNone);
  return std::to_string(nodes->ready) + "/" + std::to_string(nodes->desired);
}

std::string ConditionLine(const api::Condition& condition) {
  std::string line = condition.type + "=" + condition.status + " " + condition.reason;
  if (!condition.message.empty()) line += ": " + condition.message;
  return line;
}

// The nodes meant to hold this version (the operator listed it in their
// spec) or that still report it (being removed, or left over): both are what
// a person watching the rollout wants to see.
std::vector<TableRow> NodeRows(const ModelVersion& mv, std::vector<const ModelNode*> nodes) {
  std::sort(nodes.begin(), nodes.end(), [](const ModelNode* a, const ModelNode* b) {
    return a->metadata.name < b->metadata.name;
  });
  std::vector<TableRow> rows;
  for (const ModelNode* node : nodes) {
    const api::NodeModel* model = node->spec.Find(mv.spec.model);
    const bool listed = model != nullptr && model->Find(mv.spec.version) != nullptr;
    const api::HeldVersion* held = node->status.Find(mv.spec.model, mv.spec.version);
    if (!listed && held == nullptr) continue;
    if (held == nullptr) {
      rows.push_back({node->metadata.name, std::string(kNone), std::string(kNone),
                      "not reported by the node's agent yet"});
      continue;
    }
    rows.push_back({node->metadata.name, std::string(api::VersionStateName(held->state)),
                    StagingProgress(held->bytes, held->total_bytes), held->message});
  }
  return rows;
}

void AddField(std::string& out, std::string_view label, const std::string& value) {
  constexpr size_t kLabelWidth = 17;
  std::string line(label);
  line += ':';
  line.append(kLabelWidth > line.size() ? kLabelWidth - line.size() : 1, ' ');
  out += line + value + "\n";
}

}  // namespace

std::string DescribeStep(const api::CanaryStep& step) {
  if (const auto* weight = std::get_if<api::SetWeightStep>(&step)) {
    return "setWeight " + std::to_string(weight->weight);
  }
  if (const auto* pause = std::get_if<api::PauseStep>(&step)) {
    return pause->duration ? "pause " + DurationText(*pause->duration) : "pause";
  }
  return "analysis " + std::get<api::AnalysisStep>(step).webhook.url;
}

std::string DescribeProgress(const ModelVersion& mv) {
  if (mv.spec.blue_green() != nullptr) return "blueGreen";
  std::optional<std::string> count = StepCount(mv);
  if (!count) return "no steps";
  if (!mv.status.current_step) return std::string(kNone);
  const auto& steps = mv.spec.canary()->steps;
  const auto done = static_cast<size_t>(std::max(0, *mv.status.current_step));
  if (done >= steps.size()) return *count + " (all done)";
  return *count + " (now: " + DescribeStep(steps[done]) + ")";
}

std::string HumanAge(api::TimePoint created, api::TimePoint now) {
  // k8s.io/apimachinery/pkg/util/duration.HumanDuration, which kubectl uses.
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now - created).count();
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return std::to_string(seconds) + "s";
  const int64_t minutes = seconds / 60;
  auto both = [](int64_t big, std::string_view big_unit, int64_t small, std::string_view unit) {
    std::string out = std::to_string(big) + std::string(big_unit);
    if (small != 0) out += std::to_string(small) + std::string(unit);
    return out;
  };
  if (minutes < 10) return both(minutes, "m", seconds % 60, "s");
  if (minutes < 180) return std::to_string(minutes) + "m";
  const int64_t hours = seconds / 3600;
  if (hours < 8) return both(hours, "h", minutes % 60, "m");
  if (hours < 48) return std::to_string(hours) + "h";
  if (hours < 24 * 8) return both(hours / 24, "d", hours % 24, "h");
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24) + "d";
  if (hours < 24 * 365 * 8) return both(hours / 24 / 365, "y", hours / 24 % 365, "d");
  return std::to_string(hours / 24 / 365) + "y";
}

std::string StagingProgress(int64_t bytes, int64_t total_bytes) {
  if (total_bytes <= 0) return std::string(kNone);
  const int64_t percent = std::clamp<int64_t>(bytes, 0, total_bytes) * 100 / total_bytes;
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double size = static_cast<double>(total_bytes);
  size_t unit = 0;
  while (size >= 1024 && unit + 1 < std::size(kUnits)) {
    size /= 1024;
    ++unit;
  }
  char text[64];
  if (unit == 0) {
    std::snprintf(text, sizeof text, "%lld%% of %lldB", static_cast<long long>(percent),
                  static_cast<long long>(total_bytes));
  } else {
    std::snprintf(text, sizeof text, "%lld%% of %.1f%s", static_cast<long long>(percent), size,
                  kUnits[unit]);
  }
  return text;
}

std::string RenderStatus(const ModelVersion& mv, const std::vector<ModelNode>& nodes) {
  const api::ModelVersionStatus& s = mv.status;
  std::string out;
  AddField(out, "Name", mv.metadata.Key());
  AddField(out, "Model", mv.spec.model + " " + mv.spec.version);
  AddField(out, "Phase", PhaseText(mv));
  AddField(out, "Step", DescribeProgress(mv));
  AddField(out, "Canary weight", s.canary_weight ? std::to_string(*s.canary_weight) + "%" : "-");
  AddField(out, "Stable version", OrNone(s.stable_version));
  AddField(out, "Nodes",
           s.nodes
               ? "ready " + NodeCountsText(s.nodes) + ", failed " + std::to_string(s.nodes->failed)
               : std::string(kNone));
  if (s.promote) {
    AddField(out, "Requested",
             std::string("promote ") +
                 (*s.promote == api::PromoteRequest::kFull ? "full" : "step") +
                 " (the operator has not acted on it yet)");
  }
  if (s.abort && s.phase != api::Phase::kAborted) {
    AddField(out, "Requested", "abort (the operator has not acted on it yet)");
  }
  AddField(out, "Message", OrNone(s.message));
  if (s.conditions.empty()) {
    AddField(out, "Conditions", std::string(kNone));
  } else {
    out += "Conditions:\n";
    for (const api::Condition& condition : s.conditions)
      out += "  " + ConditionLine(condition) + "\n";
  }
  std::vector<const ModelNode*> all;
  for (const ModelNode& node : nodes) all.push_back(&node);
  std::vector<TableRow> rows = NodeRows(mv, std::move(all));
  if (rows.empty()) {
    AddField(out, "Staging", "no node lists this version yet");
  } else {
    out += "Staging:\n";
    rows.insert(rows.begin(), {"NODE", "STATE", "PROGRESS", "MESSAGE"});
    out += FormatTable(rows, "  ");
  }
  return out;
}

std::string RenderList(const std::vector<ModelVersion>& versions, bool all_namespaces,
                       api::TimePoint now) {
  std::vector<TableRow> rows;
  TableRow header = {"NAME",   "MODEL",         "VERSION", "PHASE", "STEP",
                     "WEIGHT", "READY/DESIRED", "STABLE",  "AGE"};
  if (all_namespaces) header.insert(header.begin(), "NAMESPACE");
  rows.push_back(std::move(header));
  for (const ModelVersion& mv : versions) {
    const api::ModelVersionStatus& s = mv.status;
    TableRow row = {mv.metadata.name,
                    mv.spec.model,
                    mv.spec.version,
                    PhaseText(mv),
                    StepCount(mv).value_or(std::string(kNone)),
                    OrNone(s.canary_weight),
                    NodeCountsText(s.nodes),
                    OrNone(s.stable_version),
                    mv.metadata.creation_timestamp ? HumanAge(*mv.metadata.creation_timestamp, now)
                                                   : std::string(kNone)};
    if (all_namespaces) row.insert(row.begin(), mv.metadata.namespace_name);
    rows.push_back(std::move(row));
  }
  return FormatTable(rows);
}

std::string RenderHistory(const std::vector<ModelVersion>& versions) {
  std::string out;
  for (const ModelVersion& mv : versions) {
    if (!out.empty()) out += "\n";
    out += FormatTable({{mv.metadata.name, "version " + mv.spec.version, "phase " + PhaseText(mv),
                         "promoted " + OrNone(mv.status.promoted_time)}});
    if (mv.status.history.empty()) {
      out += "  no history entries\n";
      continue;
    }
    std::vector<TableRow> rows = {{"TIME", "PHASE", "STEP", "WEIGHT", "REASON", "MESSAGE"}};
    for (const api::HistoryEntry& entry : mv.status.history) {
      rows.push_back({FormatTime(entry.time), std::string(api::PhaseName(entry.phase)),
                      OrNone(entry.step), OrNone(entry.weight), OrNone(entry.reason),
                      entry.message});
    }
    out += FormatTable(rows, "  ");
  }
  return out;
}

}  // namespace ferry::ctl
