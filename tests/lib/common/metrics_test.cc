// MetricsRegistry as Prometheus reads it: the exact exposition text, names
// refused at registration, and counts that survive concurrent recording.
#include "lib/common/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ferry {
namespace {

TEST(MetricsTest, RendersTheTextFormatExactly) {
  MetricsRegistry registry;
  CounterFamily& requests =
      registry.AddCounter("ferry_http_requests_total", "HTTP requests served.", {"method", "code"});
  GaugeFamily& depth = registry.AddGauge("ferry_queue_depth", "Items waiting.");
  HistogramFamily& latency =
      registry.AddHistogram("ferry_latency_seconds", "Time per request.", {0.25, 1});

  // Added out of order: the text sorts children by their label values.
  requests.WithLabels({"POST", "500"}).Inc();
  requests.WithLabels({"GET", "200"}).Inc(2);
  requests.WithLabels({"GET", "200"}).Inc();
  depth.WithLabels({}).Set(7.5);
  Histogram& histogram = latency.WithLabels({});
  for (double seconds : {0.125, 0.25, 0.5, 4.0}) histogram.Observe(seconds);

  EXPECT_EQ(registry.Render(),
            "# HELP ferry_http_requests_total HTTP requests served.\n"
            "# TYPE ferry_http_requests_total counter\n"
            "ferry_http_requests_total{method=\"GET\",code=\"200\"} 3\n"
            "ferry_http_requests_total{method=\"POST\",code=\"500\"} 1\n"
            "# HELP ferry_queue_depth Items waiting.\n"
            "# TYPE ferry_queue_depth gauge\n"
            "ferry_queue_depth 7.5\n"
            "# HELP ferry_latency_seconds Time per request.\n"
            "# TYPE ferry_latency_seconds histogram\n"
            // Cumulative, and a bound holds observations equal to it.
            "ferry_latency_seconds_bucket{le=\"0.25\"} 2\n"
            "ferry_latency_seconds_bucket{le=\"1\"} 3\n"
            "ferry_latency_seconds_bucket{le=\"+Inf\"} 4\n"
            "ferry_latency_seconds_sum 4.875\n"
            "ferry_latency_seconds_count 4\n");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  MetricsRegistry registry;
  CounterFamily& files = registry.AddCounter(
      "files_total", "Files seen, by \"path\".\nA \\ is a backslash.", {"path"});
  files.WithLabels({"a\\b\"c\nd"}).Inc();
  EXPECT_EQ(registry.Render(),
            "# HELP files_total Files seen, by \"path\".\\nA \\\\ is a backslash.\n"
            "# TYPE files_total counter\n"
            "files_total{path=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(MetricsTest, LabelledHistogramsPutLeLast) {
  MetricsRegistry registry;
  HistogramFamily& sizes =
      registry.AddHistogram("delta_bytes", "Delta sizes.", {1024, 1048576, INFINITY}, {"codec"});
  sizes.WithLabels({"zstd"}).Observe(2048);
  sizes.WithLabels({"raw"}).Observe(1024);
  EXPECT_EQ(registry.Render(),
            "# HELP delta_bytes Delta sizes.\n"
            "# TYPE delta_bytes histogram\n"
            "delta_bytes_bucket{codec=\"raw\",le=\"1024\"} 1\n"
            "delta_bytes_bucket{codec=\"raw\",le=\"1048576\"} 1\n"
            "delta_bytes_bucket{codec=\"raw\",le=\"+Inf\"} 1\n"
            "delta_bytes_sum{codec=\"raw\"} 1024\n"
            "delta_bytes_count{codec=\"raw\"} 1\n"
            "delta_bytes_bucket{codec=\"zstd\",le=\"1024\"} 0\n"
            "delta_bytes_bucket{codec=\"zstd\",le=\"1048576\"} 1\n"
            "delta_bytes_bucket{codec=\"zstd\",le=\"+Inf\"} 1\n"
            "delta_bytes_sum{codec=\"zstd\"} 2048\n"
            "delta_bytes_count{codec=\"zstd\"} 1\n");
}

TEST(MetricsTest, UnlabelledFamiliesStartAtZeroLabelledOnesEmpty) {
  MetricsRegistry registry;
  registry.AddCounter("restarts_total", "Restarts.");
  registry.AddGauge("phase", "Rollout phase.", {"rollout"});
  registry.AddHistogram("wait_seconds", "Waits.", {1});
  EXPECT_EQ(registry.Render(),
            "# HELP restarts_total Restarts.\n"
            "# TYPE restarts_total counter\n"
            "restarts_total 0\n"
            "# HELP phase Rollout phase.\n"
            "# TYPE phase gauge\n"
            "# HELP wait_seconds Waits.\n"
            "# TYPE wait_seconds histogram\n"
            "wait_seconds_bucket{le=\"1\"} 0\n"
            "wait_seconds_bucket{le=\"+Inf\"} 0\n"
            "wait_seconds_sum 0\n"
            "wait_seconds_count 0\n");
}

TEST(MetricsTest, GaugesMoveBothWaysAndPrintSpecialValues) {
  MetricsRegistry registry;
  Gauge& gauge = registry.AddGauge("g", "A gauge.").WithLabels({});
  gauge.Inc(3);
  gauge.Dec();
  gauge.Dec(0.5);
  EXPECT_EQ(gauge.value(), 1.5);
  struct Case {
    double value;
    std::string text;
  };
  for (const Case& c :
       {Case{-0.5, "-0.5"}, Case{1e21, "1e+21"}, Case{INFINITY, "+Inf"}, Case{-INFINITY, "-Inf"},
        Case{NAN, "NaN"}, Case{0.1, "0.1"}, Case{123456789, "123456789"}}) {
    gauge.Set(c.value);
    EXPECT_EQ(registry.Render(), "# HELP g A gauge.\n# TYPE g gauge\ng " + c.text + "\n") << c.text;
  }
}

TEST(MetricsTest, ChildrenAreStable) {
  MetricsRegistry registry;
  CounterFamily& family = registry.AddCounter("c_total", "C.", {"key"});
  Counter& first = family.WithLabels({"first"});
  for (int i = 0; i < 1000; ++i) family.WithLabels({std::to_string(i)}).Inc();
  EXPECT_EQ(&family.WithLabels({"first"}), &first);
  first.Inc(4);
  EXPECT_EQ(family.WithLabels({"first"}).value(), 4);
}

TEST(MetricsTest, RefusesBadNamesAtRegistration) {
  MetricsRegistry registry;
  for (const char* bad : {"", "1abc", "a-b", "a b", "é", "ferry.requests"}) {
    EXPECT_THROW(registry.AddCounter(bad, "Help."), std::invalid_argument) << bad;
  }
  for (const char* bad : {"", "1x", "a:b", "__reserved", "a-b"}) {
    EXPECT_THROW(registry.AddGauge("g", "Help.", {bad}), std::invalid_argument) << bad;
  }
  EXPECT_THROW(registry.AddGauge("g", "Help.", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(registry.AddGauge("g", ""), std::invalid_argument);
  EXPECT_THROW(registry.AddHistogram("h", "Help.", {1}, {"le"}), std::invalid_argument);
  // A refused family leaves its name free.
  registry.AddGauge("g", "Help.", {"a"});
  EXPECT_THROW(registry.AddCounter("g", "Again."), std::invalid_argument);

  // A histogram prints three sample names besides its own.
  registry.AddHistogram("h", "Help.", {1});
  for (const char* taken : {"h", "h_bucket", "h_sum", "h_count"}) {
    EXPECT_THROW(registry.AddCounter(taken, "Help."), std::invalid_argument) << taken;
  }
  registry.AddCounter("x_sum", "Help.");
  EXPECT_THROW(registry.AddHistogram("x", "Help.", {1}), std::invalid_argument);

  for (const char* good : {"ferry:rollout_steps:rate5m", "_private", "Mixed_Case9"}) {
    EXPECT_NO_THROW(registry.AddCounter(good, "Help.", {"_a", "B9"})) << good;
  }
}

TEST(MetricsTest, RefusesBadBucketsLabelCountsAndDecrements) {
  MetricsRegistry registry;
  for (const std::vector<double>& bad :
       std::vector<std::vector<double>>{{1, 1}, {2, 1}, {NAN}, {-INFINITY, 1}, {1, INFINITY, 2}}) {
    EXPECT_THROW(registry.AddHistogram("h", "Help.", bad), std::invalid_argument);
  }
  EXPECT_THROW(Histogram({3, 2}), std::invalid_argument);

  CounterFamily& counter = registry.AddCounter("c_total", "C.", {"a", "b"});
  EXPECT_THROW(counter.WithLabels({"x"}), std::invalid_argument);
  EXPECT_THROW(counter.WithLabels({"x", "y", "z"}), std::invalid_argument);
  EXPECT_THROW(counter.WithLabels({"x", "y"}).Inc(-1), std::invalid_argument);
  EXPECT_THROW(counter.WithLabels({"x", "y"}).Inc(NAN), std::invalid_argument);
  EXPECT_EQ(counter.WithLabels({"x", "y"}).value(), 0);
}

TEST(MetricsTest, BucketHelpers) {
  EXPECT_EQ(ExponentialBuckets(1024, 4, 4), (std::vector<double>{1024, 4096, 16384, 65536}));
  EXPECT_THROW(ExponentialBuckets(0, 2, 3), std::invalid_argument);
  EXPECT_THROW(ExponentialBuckets(1, 1, 3), std::invalid_argument);
  EXPECT_THROW(ExponentialBuckets(1, 2, 0), std::invalid_argument);
  EXPECT_THROW(ExponentialBuckets(1e300, 1e10, 5), std::invalid_argument);
  const std::vector<double> latency = DefaultLatencyBuckets();
  EXPECT_EQ(latency.front(), 0.005);
  EXPECT_EQ(latency.back(), 10);
  MetricsRegistry registry;
  EXPECT_NO_THROW(registry.AddHistogram("h", "Help.", latency));
}

TEST(MetricsTest, ConcurrentRecordingLosesNothing) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100000;
  MetricsRegistry registry;
  CounterFamily& counters = registry.AddCounter("ops_total", "Ops.", {"kind"});
  Gauge& gauge = registry.AddGauge("inflight", "In flight.").WithLabels({});
  Histogram& histogram = registry.AddHistogram("op_size", "Sizes.", {1.5}).WithLabels({});
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Counter& shared = counters.WithLabels({"shared"});
      for (int i = 0; i < kPerThread; ++i) {
        shared.Inc();
        // Some lookups and creations race with the increments and with Render.
        if (i % 1000 == 0) counters.WithLabels({"thread" + std::to_string(t)}).Inc(1000);
        gauge.Inc();
        gauge.Dec(2);
        histogram.Observe(i % 2 == 0 ? 1 : 2);
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 50; ++i) EXPECT_FALSE(registry.Render().empty());
  });
  for (std::thread& thread : threads) thread.join();

  EXPECT_EQ(counters.WithLabels({"shared"}).value(), kThreads * kPerThread);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(counters.WithLabels({"thread" + std::to_string(t)}).value(), kPerThread);
  }
  EXPECT_EQ(gauge.value(), -kThreads * kPerThread);
  const Histogram::Snapshot snapshot = histogram.Read();
  EXPECT_EQ(snapshot.count, uint64_t{kThreads * kPerThread});
  EXPECT_EQ(snapshot.cumulative,
            (std::vector<uint64_t>{kThreads * kPerThread / 2, kThreads * kPerThread}));
  EXPECT_EQ(snapshot.sum, 1.5 * kThreads * kPerThread);
}

}  // namespace
}  // namespace ferry
