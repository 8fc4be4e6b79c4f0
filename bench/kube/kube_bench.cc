// kube_bench: Ferry's side of bench/kube/run, which compares the memory and
// time of caching many objects with what kubectl needs for the same.
//   populate --kubeconfig K --namespace NS --count N   create N ConfigMaps (existing ones count)
//   informer --kubeconfig K --namespace NS             start an Informer, wait for sync, report
//   list --kubeconfig K --namespace NS                 one paginated ListAll, report
// Each prints one line of JSON for the script to read.
//
// Memory is reported three ways, because each answers a different question:
// max_rss_kib (getrusage, what kubectl's /usr/bin/time %M also reports) is
// the process's peak; rss_growth_kib (VmRSS after minus before) is what the
// cache costs a long-running process, allocator slack included; heap_bytes
// (mallinfo2, all arenas) is what the objects themselves hold, which is the
// number to divide by the object count. Growth is measured from after a first
// request, so the connection's TLS state is in the baseline.
#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "lib/common/cli.h"
#include "lib/kube/client.h"
#include "lib/kube/config.h"
#include "lib/kube/informer.h"
#include "lib/kube/resource.h"

namespace ferry {
namespace {

using Clock = std::chrono::steady_clock;
using kube::Json;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Wall-clock time, for the script to subtract the moment it launched us from.
double UnixSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A field of /proc/self/status in KiB ("VmRSS", "VmHWM"); 0 when unreadable.
int64_t ProcStatusKib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(field + ":")) return std::stoll(line.substr(field.size() + 1));
  }
  return 0;
}

int64_t MaxRssKib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// Bytes the program holds from malloc, in every arena and in mmapped chunks.
int64_t HeapBytes() {
  const struct mallinfo2 info = mallinfo2();
  return static_cast<int64_t>(info.uordblks + info.hblkhd);
}

struct MemorySample {
  int64_t rss_kib = 0;
  int64_t heap_bytes = 0;
};

MemorySample SampleMemory() { return {ProcStatusKib("VmRSS"), HeapBytes()}; }

// The objects' size as compact JSON, and the part of it that is
// metadata.managedFields (server-side apply bookkeeping no controller reads).
struct JsonBytes {
  int64_t total = 0;
  int64_t managed_fields = 0;
};

JsonBytes MeasureJson(const std::vector<const Json*>& objects) {
  JsonBytes bytes;
  for (const Json* object : objects) {
    bytes.total += static_cast<int64_t>(object->dump().size());
    const auto metadata = object->find("metadata");
    if (metadata == object->end()) continue;
    if (const auto managed = metadata->find("managedFields"); managed != metadata->end()) {
      bytes.managed_fields += static_cast<int64_t>(managed->dump().size());
    }
  }
  return bytes;
}

// The numbers both `informer` and `list` print.
Json Report(const std::string& mode, double seconds, size_t objects, const MemorySample& before,
            const MemorySample& after, int64_t max_rss_kib, const JsonBytes& json) {
  const int64_t heap = after.heap_bytes - before.heap_bytes;
  const auto per_object = [&](double bytes) {
    return objects == 0 ? 0.0 : std::round(bytes / static_cast<double>(objects));
  };
  return {{"mode", mode},
          {"seconds", seconds},
          {"objects", objects},
          {"max_rss_kib", max_rss_kib},
          {"rss_before_kib", before.rss_kib},
          {"rss_after_kib", after.rss_kib},
          {"rss_growth_kib", after.rss_kib - before.rss_kib},
          {"heap_bytes", heap},
          {"heap_bytes_per_object", per_object(static_cast<double>(heap))},
          {"json_bytes", json.total},
          {"json_bytes_per_object", per_object(static_cast<double>(json.total))},
          {"managed_fields_json_bytes", json.managed_fields},
          {"heap_per_json_byte", json.total == 0 ? 0.0
                                                 : std::round(100.0 * static_cast<double>(heap) /
                                                              static_cast<double>(json.total)) /
                                                       100.0}};
}

struct Connection {
  std::string kubeconfig;
  std::string namespace_name;
};

Result<std::unique_ptr<kube::Client>> Connect(const Connection& connection,
                                              kube::ClientOptions options = {}) {
  Result<kube::ClusterConfig> config = kube::LoadKubeconfigFiles({connection.kubeconfig});
  if (!config) return config.error();
  return kube::Client::Create(*config, std::move(options));
}

// One request first, so that the connection (and its TLS state) is part of
// the baseline the memory is measured from, not charged to the objects.
Status Warm(kube::Client& client) {
  Result<kube::HttpResponse> answer = client.Raw({"GET", "/version", "", ""}, true);
  if (!answer) return answer.error();
  if (answer->status != 200) {
    return MakeError(ErrorCode::kUnavailable,
                     "GET /version: HTTP " + std::to_string(answer->status));
  }
  return OkStatus();
}

int Fail(const Error& error) {
  std::cerr << "kube_bench: " << error.message << "\n";
  return kExitFailure;
}

// A ConfigMap as an application might keep one: a handful of labels and about
// 1 KiB of configuration text. The values vary per object so that nothing
// downstream (the server's storage, a compressor) sees copies.
Json BenchConfigMap(const std::string& namespace_name, int index, std::mt19937_64& random) {
  static constexpr const char* kTiers[] = {"web", "api", "worker", "batch"};
  static constexpr const char* kTeams[] = {"search", "ranking", "ingest", "serving", "infra"};
  const auto hex = [&](int digits) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < digits; ++i) out += kDigits[random() % 16];
    return out;
  };
  char name[32];
  std::snprintf(name, sizeof(name), "bench-%06d", index);
  std::string settings = "# generated by kube_bench\nservice:\n  name: " + std::string(name) +
                         "\n  replicas: " + std::to_string(1 + random() % 8) +
                         "\n  port: " + std::to_string(8000 + random() % 1000) +
                         "\n  image: registry.example.com/team/service@sha256:" + hex(64) +
                         "\nlimits:\n  cpu: " + std::to_string(100 + random() % 900) +
                         "m\n  memory: " + std::to_string(128 + random() % 896) +
                         "Mi\nupstreams:\n";
  for (int i = 0; i < 6; ++i) {
    settings += "  - url: http://upstream-" + hex(6) + ".svc.cluster.local:8080/v1\n" +
                "    timeout_ms: " + std::to_string(50 + random() % 950) + "\n" +
                "    weight: " + std::to_string(random() % 100) + "\n";
  }
  std::string flags;
  for (int i = 0; i < 8; ++i) {
    flags += "flag_" + hex(4) + "=" + (random() % 2 ? "true" : "false") + "\n";
  }
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata",
           {{"name", name},
            {"namespace", namespace_name},
            {"labels",
             {{"app.kubernetes.io/name", "kube-bench"},
              {"app.kubernetes.io/component", kTiers[index % 4]},
              {"team", kTeams[index % 5]},
              {"shard", std::to_string(index % 16)}}}}},
          {"data",
           {{"settings.yaml", settings},
            {"feature-flags", flags},
            {"owner", std::string(kTeams[index % 5]) + "@example.com"},
            {"revision", std::to_string(random() % 100000)}}}};
}

Status EnsureNamespace(kube::Client& client, const std::string& namespace_name) {
  const Json ns = {
      {"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", namespace_name}}}};
  Result<Json> created = client.Create(kube::types::Namespaces(), ns);
  if (created || created.error().code == ErrorCode::kAlreadyExists) return OkStatus();
  return created.error().Wrap("create namespace " + namespace_name);
}

// Creates bench-000000 .. bench-<count-1> from `threads` threads; objects that
// exist already are counted, not recreated, so a rerun tops up.
int Populate(const Connection& connection, int count, int threads, double qps) {
  kube::ClientOptions options;
  options.qps = qps;
  options.burst = std::max(1, static_cast<int>(qps));
  options.transport.max_idle_connections = static_cast<size_t>(threads);
  Result<std::unique_ptr<kube::Client>> client = Connect(connection, options);
  if (!client) return Fail(client.error());
  if (Status s = EnsureNamespace(**client, connection.namespace_name); !s) return Fail(s.error());

  const Clock::time_point start = Clock::now();
  std::atomic<int> next{0}, created{0}, existing{0};
  std::mutex mutex;
  std::optional<Error> failure;  // guarded by mutex
  std::vector<std::jthread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937_64 random(20240601 + t);
      for (int i = next++; i < count; i = next++) {
        Result<Json> answer = (*client)->Create(
            kube::types::ConfigMaps(), BenchConfigMap(connection.namespace_name, i, random));
        if (answer) {
          ++created;
        } else if (answer.error().code == ErrorCode::kAlreadyExists) {
          ++existing;
        } else {
          std::lock_guard lock(mutex);
          if (!failure) failure = answer.error();
          next = count;  // the others stop at their next object
        }
      }
    });
  }
  workers.clear();  // joins
  if (failure) return Fail(*failure);
  const double seconds = SecondsSince(start);
  const Json report = {{"mode", "populate"},
                       {"created", created.load()},
                       {"existing", existing.load()},
                       {"seconds", seconds},
                       {"creates_per_second", seconds > 0 ? created.load() / seconds : 0.0},
                       {"requests", (*client)->stats().requests},
                       {"retries", (*client)->stats().retries}};
  std::cout << report.dump() << "\n";
  return kExitOk;
}

int RunInformer(const Connection& connection, std::chrono::seconds timeout,
                Clock::time_point process_start) {
  Result<std::unique_ptr<kube::Client>> client = Connect(connection);
  if (!client) return Fail(client.error());
  if (Status s = Warm(**client); !s) return Fail(s.error());
  kube::InformerOptions options;
  options.type = kube::types::ConfigMaps();
  options.namespace_name = connection.namespace_name;
  options.page_size = 500;
  kube::Informer informer(**client, std::move(options));
  const MemorySample before = SampleMemory();
  const Clock::time_point start = Clock::now();
  informer.Start();
  if (!informer.WaitForSync(timeout)) {
    return Fail(MakeError(ErrorCode::kUnavailable, "the informer did not sync in " +
                                                       std::to_string(timeout.count()) + " s"));
  }
  const double seconds = SecondsSince(start);
  const double synced_at = UnixSeconds();
  const MemorySample after = SampleMemory();
  const int64_t max_rss = MaxRssKib();
  // Measured after the memory numbers: dumping allocates.
  std::vector<kube::ObjectPtr> objects = informer.store().List();
  std::vector<const Json*> views;
  for (const kube::ObjectPtr& object : objects) views.push_back(object.get());
  const JsonBytes json = MeasureJson(views);
  Json report = Report("informer", seconds, informer.store().Size(), before, after, max_rss, json);
  report["done_at_unix"] = synced_at;
  report["setup_seconds"] = std::chrono::duration<double>(start - process_start).count();
  const Clock::time_point stopping = Clock::now();
  informer.Stop();
  report["stop_seconds"] = SecondsSince(stopping);
  std::cout << report.dump() << std::endl;
  return kExitOk;
}

int RunList(const Connection& connection) {
  Result<std::unique_ptr<kube::Client>> client = Connect(connection);
  if (!client) return Fail(client.error());
  if (Status s = Warm(**client); !s) return Fail(s.error());
  const MemorySample before = SampleMemory();
  const Clock::time_point start = Clock::now();
  kube::ListOptions options;
  options.limit = 500;
  Result<kube::ObjectList> list =
      (*client)->ListAll(kube::types::ConfigMaps(), connection.namespace_name, options);
  if (!list) return Fail(list.error());
  const double seconds = SecondsSince(start);
  const double listed_at = UnixSeconds();
  const MemorySample after = SampleMemory();
  const int64_t max_rss = MaxRssKib();
  std::vector<const Json*> views;
  for (const Json& item : list->items) views.push_back(&item);
  const JsonBytes json = MeasureJson(views);
  Json report = Report("list", seconds, list->items.size(), before, after, max_rss, json);
  report["done_at_unix"] = listed_at;
  // What the same objects would hold without managedFields, as client-go
  // users get by stripping them in an informer transform.
  for (Json& item : list->items) item["metadata"].erase("managedFields");
  report["heap_bytes_without_managed_fields"] = HeapBytes() - before.heap_bytes;
  std::cout << report.dump() << std::endl;
  return kExitOk;
}

int Main(int argc, char** argv) {
  const Clock::time_point process_start = Clock::now();
  CLI::App app{"kube_bench: Ferry's informer and list for bench/kube/run"};
  AddVersionFlag(app);
  app.require_subcommand(1);
  Connection connection;
  int count = 0;
  int threads = 8;
  double qps = 1000;
  int timeout_seconds = 300;
  const auto add_connection = [&](CLI::App* command) {
    command->add_option("--kubeconfig", connection.kubeconfig, "kubeconfig file")->required();
    command->add_option("--namespace", connection.namespace_name, "namespace")->required();
  };

  auto* populate = app.add_subcommand("populate", "create N ConfigMaps of about 1 KiB");
  add_connection(populate);
  populate->add_option("--count", count, "how many")->required()->check(CLI::NonNegativeNumber);
  populate->add_option("--threads", threads, "concurrent creates")->check(CLI::PositiveNumber);
  populate->add_option("--qps", qps, "client request rate (burst the same); 0 = unlimited")
      ->check(CLI::NonNegativeNumber);
  auto* informer = app.add_subcommand("informer", "sync an Informer on the namespace's ConfigMaps");
  add_connection(informer);
  informer->add_option("--timeout", timeout_seconds, "seconds to wait for the sync")
      ->check(CLI::PositiveNumber);
  auto* list = app.add_subcommand("list", "one ListAll of the ConfigMaps, 500 a page");
  add_connection(list);
  if (std::optional<int> code = ParseCommandLine(app, argc, argv)) return *code;

  if (*populate) return Populate(connection, count, threads, qps);
  if (*informer)
    return RunInformer(connection, std::chrono::seconds(timeout_seconds), process_start);
  return RunList(connection);
}

}  // namespace
}  // namespace ferry

int main(int argc, char** argv) { return ferry::Main(argc, argv); }
