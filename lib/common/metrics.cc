#include "lib/common/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <utility>

namespace ferry {
namespace {

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

void CheckMetricName(const std::string& name) {
  const bool valid = !name.empty() &&
                     (IsAsciiLetter(name[0]) || name[0] == '_' || name[0] == ':') &&
                     std::all_of(name.begin(), name.end(), [](char c) {
                       return IsAsciiLetter(c) || IsAsciiDigit(c) || c == '_' || c == ':';
                     });
  if (!valid) {
    throw std::invalid_argument("metric name \"" + name +
                                "\" is not valid: it must match [a-zA-Z_:][a-zA-Z0-9_:]*");
  }
}

void CheckLabelName(const std::string& metric, const std::string& label) {
  const bool valid = !label.empty() && (IsAsciiLetter(label[0]) || label[0] == '_') &&
                     std::all_of(label.begin(), label.end(), [](char c) {
                       return IsAsciiLetter(c) || IsAsciiDigit(c) || c == '_';
                     });
  if (!valid) {
    throw std::invalid_argument("label name \"" + label + "\" of metric " + metric +
                                " is not valid: it must match [a-zA-Z_][a-zA-Z0-9_]*");
  }
  if (label.starts_with("__")) {
    throw std::invalid_argument("label name \"" + label + "\" of metric " + metric +
                                " starts with __, which Prometheus reserves");
  }
}

void CheckUpperBounds(const std::vector<double>& bounds) {
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i])) {
      throw std::invalid_argument("histogram bucket bounds must be finite (+Inf is implied)");
    }
    if (i > 0 && !(bounds[i - 1] < bounds[i])) {
      throw std::invalid_argument("histogram bucket bounds must be strictly increasing");
    }
  }
}

// Numbers as Prometheus parses them (Go's ParseFloat): the shortest text that
// reads back to the same double, and its own spellings of the special values.
void AppendNumber(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buffer[32];
    const std::to_chars_result written = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, written.ptr);
  }
}

std::string FormatNumber(double value) {
  std::string out;
  AppendNumber(out, value);
  return out;
}

// HELP text escapes backslash and newline; label values also the double quote.
void AppendEscaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

std::string RenderLabels(const std::vector<std::string>& names,
                         const std::vector<std::string>& values) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    AppendEscaped(out, values[i], /*quote=*/true);
    out += '"';
  }
  return out;
}

// One line: name{labels,extra} value. `extra` is a rendered label or empty.
void AppendSample(std::string& out, std::string_view name, std::string_view suffix,
                  std::string_view labels, std::string_view extra, std::string_view value) {
  out += name;
  out += suffix;
  if (!labels.empty() || !extra.empty()) {
    out += '{';
    out += labels;
    if (!labels.empty() && !extra.empty()) out += ',';
    out += extra;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

void AppendSamples(std::string& out, const std::string& name, const std::string& labels,
                   const Counter& counter) {
  AppendSample(out, name, "", labels, "", FormatNumber(counter.value()));
}

void AppendSamples(std::string& out, const std::string& name, const std::string& labels,
                   const Gauge& gauge) {
  AppendSample(out, name, "", labels, "", FormatNumber(gauge.value()));
}

void AppendSamples(std::string& out, const std::string& name, const std::string& labels,
                   const Histogram& histogram) {
  const Histogram::Snapshot snapshot = histogram.Read();
  const std::vector<double>& bounds = histogram.upper_bounds();
  for (size_t i = 0; i < snapshot.cumulative.size(); ++i) {
    const std::string le =
        "le=\"" + (i < bounds.size() ? FormatNumber(bounds[i]) : std::string("+Inf")) + "\"";
    AppendSample(out, name, "_bucket", labels, le, std::to_string(snapshot.cumulative[i]));
  }
  AppendSample(out, name, "_sum", labels, "", FormatNumber(snapshot.sum));
  AppendSample(out, name, "_count", labels, "", std::to_string(snapshot.count));
}

std::string_view TypeName(const Counter*) { return "counter"; }
std::string_view TypeName(const Gauge*) { return "gauge"; }
std::string_view TypeName(const Histogram*) { return "histogram"; }

}  // namespace

void Counter::Inc(double by) {
  if (!(by >= 0)) {
    throw std::invalid_argument("a counter only grows; Inc(" + FormatNumber(by) +
                                ") would make it shrink");
  }
  value_.fetch_add(by, std::memory_order_relaxed);
}

Histogram::Histogram(const std::vector<double>& upper_bounds)
    : upper_bounds_(upper_bounds), buckets_(upper_bounds.size() + 1) {
  CheckUpperBounds(upper_bounds_);
}

void Histogram::Observe(double value) {
  // The first bound >= value is the bucket (le is inclusive); none means +Inf.
  const size_t bucket =
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin();
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot;
  snapshot.cumulative.reserve(buckets_.size());
  uint64_t total = 0;
  for (const std::atomic<uint64_t>& bucket : buckets_) {
    total += bucket.load(std::memory_order_relaxed);
    snapshot.cumulative.push_back(total);
  }
  // Counting from the buckets keeps _count equal to the +Inf bucket in every
  // scrape, which a separate counter could not under concurrent Observe.
  snapshot.count = total;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  if (!(start > 0) || !(factor > 1) || count < 1) {
    throw std::invalid_argument("exponential buckets need start > 0, factor > 1 and count >= 1");
  }
  std::vector<double> bounds;
  bounds.reserve(static_cast<size_t>(count));
  for (double bound = start; static_cast<int>(bounds.size()) < count; bound *= factor) {
    bounds.push_back(bound);
  }
  CheckUpperBounds(bounds);  // a start*factor^count past the largest double is not finite
  return bounds;
}

template <typename Metric>
MetricFamily<Metric>::MetricFamily(metrics_internal::RegistryKey, std::string name,
                                   std::string help, std::vector<std::string> label_names,
                                   std::vector<double> upper_bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      upper_bounds_(std::move(upper_bounds)) {
  if (label_names_.empty()) {
    std::lock_guard lock(mutex_);
    ChildLocked({});
  }
}

template <typename Metric>
Metric& MetricFamily<Metric>::WithLabels(const std::vector<std::string>& values) {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument("metric " + name_ + " has " + std::to_string(label_names_.size()) +
                                " labels but was given " + std::to_string(values.size()) +
                                " values");
  }
  std::lock_guard lock(mutex_);
  return ChildLocked(values).metric;
}

template <typename Metric>
typename MetricFamily<Metric>::Child& MetricFamily<Metric>::ChildLocked(
    const std::vector<std::string>& values) {
  auto found = children_.find(values);
  if (found != children_.end()) return found->second;
  std::string labels = RenderLabels(label_names_, values);
  // Only a histogram's children take the bucket bounds.
  if constexpr (std::is_same_v<Metric, Histogram>) {
    return children_.try_emplace(values, std::move(labels), upper_bounds_).first->second;
  } else {
    return children_.try_emplace(values, std::move(labels)).first->second;
  }
}

template <typename Metric>
void MetricFamily<Metric>::AppendTo(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  AppendEscaped(out, help_, /*quote=*/false);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += TypeName(static_cast<const Metric*>(nullptr));
  out += '\n';
  std::lock_guard lock(mutex_);
  for (const auto& [values, child] : children_)
    AppendSamples(out, name_, child.labels, child.metric);
}

template class MetricFamily<Counter>;
template class MetricFamily<Gauge>;
template class MetricFamily<Histogram>;

void MetricsRegistry::ClaimLocked(const std::string& name, const std::string& help,
                                  const std::vector<std::string>& label_names,
                                  const std::vector<std::string>& sample_suffixes) {
  CheckMetricName(name);
  if (help.empty()) throw std::invalid_argument("metric " + name + " needs a help text");
  for (size_t i = 0; i < label_names.size(); ++i) {
    CheckLabelName(name, label_names[i]);
    if (std::find(label_names.begin(), label_names.begin() + i, label_names[i]) !=
        label_names.begin() + i) {
      throw std::invalid_argument("metric " + name + " names label " + label_names[i] + " twice");
    }
  }
  for (const std::string& suffix : sample_suffixes) {
    if (sample_names_.contains(name + suffix)) {
      throw std::invalid_argument("metric " + name + " would print samples named " + name + suffix +
                                  ", which another metric already does");
    }
  }
  for (const std::string& suffix : sample_suffixes) sample_names_.insert(name + suffix);
}

CounterFamily& MetricsRegistry::AddCounter(const std::string& name, const std::string& help,
                                           const std::vector<std::string>& label_names) {
  std::lock_guard lock(mutex_);
  ClaimLocked(name, help, label_names, {""});
  auto family = std::make_unique<CounterFamily>(metrics_internal::RegistryKey(), name, help,
                                                label_names, std::vector<double>());
  CounterFamily& added = *family;
  families_.push_back(std::move(family));
  return added;
}

GaugeFamily& MetricsRegistry::AddGauge(const std::string& name, const std::string& help,
                                       const std::vector<std::string>& label_names) {
  std::lock_guard lock(mutex_);
  ClaimLocked(name, help, label_names, {""});
  auto family = std::make_unique<GaugeFamily>(metrics_internal::RegistryKey(), name, help,
                                              label_names, std::vector<double>());
  GaugeFamily& added = *family;
  families_.push_back(std::move(family));
  return added;
}

HistogramFamily& MetricsRegistry::AddHistogram(const std::string& name, const std::string& help,
                                               std::vector<double> upper_bounds,
                                               const std::vector<std::string>& label_names) {
  if (!upper_bounds.empty() && upper_bounds.back() == INFINITY) upper_bounds.pop_back();
  CheckUpperBounds(upper_bounds);
  if (std::find(label_names.begin(), label_names.end(), "le") != label_names.end()) {
    throw std::invalid_argument("histogram " + name + " may not have a label named le");
  }
  std::lock_guard lock(mutex_);
  // The bare name too: a second family by that name would repeat HELP and TYPE.
  ClaimLocked(name, help, label_names, {"", "_bucket", "_sum", "_count"});
  auto family = std::make_unique<HistogramFamily>(metrics_internal::RegistryKey(), name, help,
                                                  label_names, std::move(upper_bounds));
  HistogramFamily& added = *family;
  families_.push_back(std::move(family));
  return added;
}

std::string MetricsRegistry::Render() const {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const std::unique_ptr<metrics_internal::FamilyBase>& family : families_) {
    family->AppendTo(out);
  }
  return out;
}

}  // namespace ferry
