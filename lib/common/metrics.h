// Prometheus metrics for Ferry's long-running binaries. A MetricsRegistry is an
// ordinary object that main() owns and hands to whoever records; nothing
// registers itself process-wide, so tests get fresh registries.
//
// Invariants:
// - Names are checked when a family is added: metric names match
//   [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and do not
//   start with "__", no family repeats a label name, a histogram has no "le"
//   label, and no two families produce samples of the same name (a histogram
//   "x" also takes x_bucket, x_sum and x_count). A bad name, a help text that is
//   empty or a histogram whose bounds do not increase is a programming error and
//   throws std::invalid_argument at registration, where the stack points at it.
// - A family's children are created on first use, start at zero, and live as
//   long as the registry: the reference WithLabels returns stays valid, so hot
//   paths look a child up once and keep it. A family without labels has its one
//   child from the start, so it renders as 0 before anything is recorded.
// - Recording (Inc, Set, Observe) is lock-free; only WithLabels and Render lock.
// - Render() writes the text exposition format 0.0.4: families in the order they
//   were added, each with its HELP and TYPE lines (even before it has children),
//   then its children sorted by their label values.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace ferry {

// A total that only grows (requests served, bytes fetched). Prometheus reads a
// drop as a process restart, so Inc refuses negative amounts (and NaN) by
// throwing std::invalid_argument. By convention counter names end in _total.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void Inc(double by = 1);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down (queue depth, bytes on disk, a timestamp).
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Inc(double by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  void Dec(double by = 1) { value_.fetch_sub(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted into fixed buckets. A bucket holds the observations at
// most its upper bound ("le"); the +Inf bucket is implicit and takes the rest,
// NaN included.
class Histogram {
 public:
  // What Render reads. `cumulative[i]` counts observations <= upper_bounds[i];
  // its last entry is the +Inf bucket and always equals `count`. The sum is
  // read separately, so under concurrent Observe it may include an observation
  // the buckets do not yet (Prometheus clients accept the same).
  struct Snapshot {
    std::vector<uint64_t> cumulative;
    double sum = 0;
    uint64_t count = 0;
  };

  // `upper_bounds` must be finite and strictly increasing, else
  // std::invalid_argument.
  explicit Histogram(const std::vector<double>& upper_bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(double value);
  Snapshot Read() const;
  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

 private:
  const std::vector<double> upper_bounds_;
  std::vector<std::atomic<uint64_t>> buckets_;  // not cumulative; one more than the bounds
  std::atomic<double> sum_{0};
};

// 5 ms to 10 s, the usual buckets for latencies in seconds.
std::vector<double> DefaultLatencyBuckets();
// `count` bounds: start, start*factor, start*factor², … (start > 0, factor > 1,
// count >= 1, else std::invalid_argument). For sizes in bytes and long durations.
std::vector<double> ExponentialBuckets(double start, double factor, int count);

class MetricsRegistry;

namespace metrics_internal {

// Lets only the registry, which checks names first, make families.
class RegistryKey {
  friend class ferry::MetricsRegistry;
  RegistryKey() = default;
};

// What the registry keeps of a family, whatever its metric type.
class FamilyBase {
 public:
  virtual ~FamilyBase() = default;
  virtual void AppendTo(std::string& out) const = 0;
};

}  // namespace metrics_internal

// The children of one metric, one per combination of label values.
template <typename Metric>
class MetricFamily final : public metrics_internal::FamilyBase {
 public:
  MetricFamily(metrics_internal::RegistryKey, std::string name, std::string help,
               std::vector<std::string> label_names, std::vector<double> upper_bounds);
  MetricFamily(const MetricFamily&) = delete;
  MetricFamily& operator=(const MetricFamily&) = delete;

  // The child for `values`, one per label name and in the same order, created
  // at zero on first use. The wrong number of values throws
  // std::invalid_argument. Families without labels take {}.
  Metric& WithLabels(const std::vector<std::string>& values);

  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  void AppendTo(std::string& out) const override;

 private:
  struct Child {
    template <typename... MetricArgs>
    explicit Child(std::string rendered_labels, const MetricArgs&... metric_args)
        : labels(std::move(rendered_labels)), metric(metric_args...) {}
    const std::string labels;  // `a="x",b="y"`, escaped, ready to print
    Metric metric;
  };

  Child& ChildLocked(const std::vector<std::string>& values);

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::vector<double> upper_bounds_;  // histograms only
  mutable std::mutex mutex_;                // guards children_ (not the metrics in it)
  std::map<std::vector<std::string>, Child> children_;
};

extern template class MetricFamily<Counter>;
extern template class MetricFamily<Gauge>;
extern template class MetricFamily<Histogram>;

using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;
using HistogramFamily = MetricFamily<Histogram>;

// The families one process exports. Not copyable or movable: the references it
// hands out point into it, so it must outlive everyone that records.
class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  CounterFamily& AddCounter(const std::string& name, const std::string& help,
                            const std::vector<std::string>& label_names = {});
  GaugeFamily& AddGauge(const std::string& name, const std::string& help,
                        const std::vector<std::string>& label_names = {});
  // `upper_bounds` must be finite and strictly increasing; a trailing +Inf is
  // allowed and dropped, since that bucket is always there.
  HistogramFamily& AddHistogram(const std::string& name, const std::string& help,
                                std::vector<double> upper_bounds,
                                const std::vector<std::string>& label_names = {});

  // Every family in the text exposition format 0.0.4.
  std::string Render() const;

 private:
  // Checks the names and claims the sample names the family will print.
  void ClaimLocked(const std::string& name, const std::string& help,
                   const std::vector<std::string>& label_names,
                   const std::vector<std::string>& sample_suffixes);

  mutable std::mutex mutex_;  // guards families_ and sample_names_
  std::vector<std::unique_ptr<metrics_internal::FamilyBase>> families_;
  std::set<std::string> sample_names_;
};

}  // namespace ferry
