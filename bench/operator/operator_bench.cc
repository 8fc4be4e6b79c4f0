// The operator benchmark: the real ferry-operator, as a child process, rolling
// M ModelVersions (K models, V versions each, applied one after the other per
// model, the K models at once) out to N kwok nodes whose agents this process
// simulates. Prints a Markdown table of rollout times, the operator's overhead
// over the simulated agents, API requests per node per step, reconciles per
// second and the operator's memory; bench/operator/run drives it.
//
// The simulated agents are local to the bench rather than tests/support's
// SimulatedAgents: that one writes every node's status from one thread, one
// request at a time, so at 1,000 nodes its own queue (not the operator) would
// set the times measured here. These are lean: one ModelNode informer, and
// `--agent-threads` writers, each owning the nodes whose index is its own
// modulo the thread count, so a node's writes stay in order without locks
// shared between writers.
//
// Agent model: a version is reported Ready `--agent-delay` after the agent
// first saw it listed in spec, and the spec's `active` becomes Active the same
// delay after it was first asked for (once that version is Ready). Until then
// a listed version is Pending. The status is written (merge patch of
// /status) at each such moment and every heartbeat period besides (30 s, the
// real agent's default: the heartbeats of a thousand agents are load on the
// API server that the operator under test shares).
//
// The operator's own counters (/metrics, read before and after) give the
// requests, the time its client waited for its QPS bucket and the reconcile
// durations; the load average is printed with them, since on a shared
// machine it says as much about the times as the code does.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lib/kube/client.h"
#include "lib/kube/config.h"
#include "lib/kube/informer.h"
#include "lib/kube/object.h"
#include "lib/kube/resource.h"

extern char** environ;

namespace {

using namespace ferry;
using Clock = std::chrono::steady_clock;
using kube::Json;

struct Flags {
  std::string kubeconfig;
  std::string operator_path;
  std::string operator_log = "/tmp/ferry-operator-bench.log";
  std::string namespace_name = "ferry-bench";
  int nodes = 1000;
  int models = 20;
  int versions = 5;  // per model
  int replicas = 3;
  double agent_delay = 2.0;
  int heartbeat = 30;
  int agent_threads = 24;
  int metrics_port = 26640;
  int timeout = 1200;
  std::vector<std::string> operator_args;  // passed on to ferry-operator
};

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "ferry-operator-bench: %s\n", message.c_str());
  std::exit(1);
}

std::string Rfc3339Now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string NodeName(int i) { return "kwok-gpu-" + std::to_string(i); }
// Model names are one space for the whole cluster: prefixed by the namespace,
// so that runs in other namespaces of the same cluster never share a model.
std::string g_prefix = "ferry-bench";
std::string ModelName(int m) { return g_prefix + "-m" + std::to_string(m); }
std::string VersionName(int v) { return "1." + std::to_string(v) + ".0"; }
std::string MvName(int m, int v) { return ModelName(m) + "-1-" + std::to_string(v) + "-0"; }

// ---------------------------------------------------------------------------
// Simulated agents.

struct VersionSim {
  Clock::time_point ready_at;
};

struct NodeSim {
  std::map<std::pair<std::string, std::string>, VersionSim> listed;  // (model, version)
  std::map<std::string, std::string> active;                         // model -> version reported
  std::map<std::pair<std::string, std::string>, Clock::time_point> asked_active;
  int64_t generation_seen = -1;
  Clock::time_point next_heartbeat{};
};

class Agents {
 public:
  Agents(kube::Client& client, const Flags& flags)
      : client_(client),
        delay_(std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(flags.agent_delay))),
        heartbeat_(std::chrono::seconds(flags.heartbeat)),
        heartbeat_seconds_(flags.heartbeat),
        informer_(client, Options()) {
    for (int i = 0; i < flags.agent_threads; ++i) workers_.push_back(std::make_unique<Worker>());
    for (int i = 0; i < flags.nodes; ++i) {
      Worker& w = WorkerOf(NodeName(i));
      w.nodes[NodeName(i)] = NodeSim{};
      w.due.insert({Clock::now(), NodeName(i)});  // the first heartbeat at once
    }
  }
  ~Agents() { Stop(); }

  void Start() {
    informer_.AddEventHandlers({
        .on_add = [this](const kube::ObjectPtr& o) { Changed(*o); },
        .on_update = [this](const kube::ObjectPtr&, const kube::ObjectPtr& o) { Changed(*o); },
        .on_delete = nullptr,
    });
    informer_.Start();
    if (!informer_.WaitForSync(std::chrono::seconds(60))) Die("ModelNode informer never synced");
    for (auto& w : workers_) w->thread = std::thread([this, p = w.get()] { Loop(*p); });
  }

  void Stop() {
    for (auto& w : workers_) {
      {
        std::lock_guard lock(w->mutex);
        w->stopping = true;
      }
      w->wake.notify_all();
    }
    for (auto& w : workers_)
      if (w->thread.joinable()) w->thread.join();
    informer_.Stop();
  }

  uint64_t writes() const { return writes_; }
  uint64_t write_failures() const { return write_failures_; }

 private:
  struct Worker {
    std::mutex mutex;
    std::condition_variable wake;
    std::map<std::string, NodeSim> nodes;
    std::multimap<Clock::time_point, std::string> due;
    bool stopping = false;
    std::thread thread;
  };

  static kube::InformerOptions Options() {
    kube::InformerOptions options;
    options.type = kube::types::ModelNodes();
    return options;
  }

  Worker& WorkerOf(const std::string& node) {
    return *workers_[std::hash<std::string>{}(node) % workers_.size()];
  }

  // On the informer's thread: a spec generation not seen yet starts the
  // clocks of the versions it newly lists.
  void Changed(const Json& object) {
    const std::string name = kube::Name(object);
    Worker& w = WorkerOf(name);
    const int64_t generation = kube::IntField(kube::ObjectField(object, "metadata"), "generation");
    const auto now = Clock::now();
    std::lock_guard lock(w.mutex);
    auto it = w.nodes.find(name);
    if (it == w.nodes.end() || generation <= it->second.generation_seen) return;
    NodeSim& node = it->second;
    node.generation_seen = generation;
    std::set<std::pair<std::string, std::string>> now_listed;
    const Json& models = kube::ObjectField(object, "spec").value("models", Json::array());
    for (const Json& model : models) {
      const std::string m = model.value("model", "");
      for (const Json& version : model.value("versions", Json::array())) {
        auto key = std::make_pair(m, version.value("version", ""));
        now_listed.insert(key);
        if (node.listed.emplace(key, VersionSim{now + delay_}).second) {
          w.due.insert({now + delay_, name});
        }
      }
      if (model.contains("active")) {
        auto key = std::make_pair(m, model.value("active", ""));
        if (node.asked_active.emplace(key, now + delay_).second) w.due.insert({now + delay_, name});
      }
    }
    for (auto v = node.listed.begin(); v != node.listed.end();) {
      v = now_listed.count(v->first) ? std::next(v) : node.listed.erase(v);
    }
    // The spec moved: write at once that it was seen (observedGeneration),
    // as a real agent does on taking a new spec.
    w.due.insert({now, name});
    w.wake.notify_all();
  }

  void Loop(Worker& w) {
    std::unique_lock lock(w.mutex);
    while (!w.stopping) {
      if (w.due.empty()) {
        w.wake.wait(lock);
        continue;
      }
      auto first = w.due.begin();
      if (first->first > Clock::now()) {
        w.wake.wait_until(lock, first->first);
        continue;
      }
      const std::string name = first->second;
      // Everything due for this node now is served by the one write.
      for (auto it = w.due.begin(); it != w.due.end() && it->first <= Clock::now();) {
        it = it->second == name ? w.due.erase(it) : std::next(it);
      }
      NodeSim& node = w.nodes[name];
      const auto now = Clock::now();
      Json patch = Render(node, now);
      node.next_heartbeat = now + heartbeat_;
      w.due.insert({node.next_heartbeat, name});
      lock.unlock();
      auto written = client_.Patch(kube::types::ModelNodes(), "", name, kube::PatchType::kMerge,
                                   patch, "status");
      ++writes_;
      if (!written) {
        ++write_failures_;
        std::fprintf(stderr, "agent %s: %s\n", name.c_str(), written.error().message.c_str());
      }
      lock.lock();
    }
  }

  Json Render(NodeSim& node, Clock::time_point now) {
    // Active moves once its delay has passed and the version is Ready.
    for (const auto& [key, at] : node.asked_active) {
      auto listed = node.listed.find(key);
      if (at <= now && listed != node.listed.end() && listed->second.ready_at <= now) {
        node.active[key.first] = key.second;
      }
    }
    Json versions = Json::array();
    std::set<std::pair<std::string, std::string>> written;
    for (const auto& [key, sim] : node.listed) {
      const bool ready = sim.ready_at <= now;
      const bool active = node.active.count(key.first) && node.active[key.first] == key.second;
      Json entry = {{"model", key.first},
                    {"version", key.second},
                    {"state", active  ? "Active"
                              : ready ? "Ready"
                                      : "Pending"},
                    {"lastTransitionTime", Rfc3339Now()}};
      if (ready) {
        entry["bytes"] = 1000;
        entry["totalBytes"] = 1000;
        entry["digest"] = Digest(key.first, key.second);
      }
      versions.push_back(std::move(entry));
      written.insert(key);
    }
    // An Active version stays while `current` points at it, listed or not.
    for (const auto& [model, version] : node.active) {
      if (written.insert({model, version}).second) {
        versions.push_back({{"model", model},
                            {"version", version},
                            {"state", "Active"},
                            {"bytes", 1000},
                            {"totalBytes", 1000},
                            {"digest", Digest(model, version)},
                            {"lastTransitionTime", Rfc3339Now()}});
      }
    }
    Json gpus = Json::array();
    for (int i = 0; i < 8; ++i) gpus.push_back({{"index", i}, {"healthy", true}});
    Json status = {{"observedGeneration", std::max<int64_t>(node.generation_seen, 0)},
                   {"versions", std::move(versions)},
                   {"totalGPUs", 8},
                   {"healthyGPUs", 8},
                   {"gpus", std::move(gpus)},
                   {"heartbeat", Rfc3339Now()},
                   {"heartbeatSeconds", heartbeat_seconds_},
                   {"agentVersion", "bench"}};
    Json conditions = Json::array();
    conditions.push_back({{"type", "Ready"},
                          {"status", "True"},
                          {"reason", "AgentRunning"},
                          {"message", ""},
                          {"lastTransitionTime", "2026-01-01T00:00:00Z"}});
    conditions.push_back({{"type", "GPUHealthy"},
                          {"status", "True"},
                          {"reason", "AllHealthy"},
                          {"message", ""},
                          {"lastTransitionTime", "2026-01-01T00:00:00Z"}});
    status["conditions"] = std::move(conditions);
    return {{"status", std::move(status)}};
  }

 public:
  // A made-up manifest digest: 64 hex digits from the model and version.
  static std::string Digest(const std::string& model, const std::string& version) {
    std::string hex;
    uint64_t h = std::hash<std::string>{}(model + "@" + version);
    while (hex.size() < 64) {
      char part[17];
      std::snprintf(part, sizeof part, "%016llx", static_cast<unsigned long long>(h));
      hex += part;
      h = h * 6364136223846793005ULL + 1442695040888963407ULL;
    }
    return "sha256:" + hex;
  }

 private:
  kube::Client& client_;
  const Clock::duration delay_;
  const Clock::duration heartbeat_;
  const int heartbeat_seconds_;
  kube::Informer informer_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<uint64_t> writes_{0}, write_failures_{0};
};

// ---------------------------------------------------------------------------
// The operator: a child process and its /metrics.

pid_t StartOperator(const Flags& flags) {
  const std::string addr = "127.0.0.1:" + std::to_string(flags.metrics_port);
  // Only the bench's namespace: ModelVersions left by other runs are not ours to roll.
  std::vector<std::string> args = {flags.operator_path, "--kubeconfig", flags.kubeconfig,
                                   "--metrics-addr",    addr,           "--namespace",
                                   flags.namespace_name};
  args.insert(args.end(), flags.operator_args.begin(), flags.operator_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, flags.operator_log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  if (posix_spawn(&pid, flags.operator_path.c_str(), &actions, nullptr, argv.data(), environ) !=
      0) {
    Die("cannot start " + flags.operator_path + ": " + std::strerror(errno));
  }
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// GET http://127.0.0.1:port/path with a plain socket (HTTP/1.0: the server
// closes when done); "" on any failure.
std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string body;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[65536];
      for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;) body.append(buffer, n);
    }
  }
  close(fd);
  const size_t start = body.find("\r\n\r\n");
  if (body.compare(0, 12, "HTTP/1.1 200") != 0 && body.compare(0, 12, "HTTP/1.0 200") != 0) {
    return "";
  }
  return start == std::string::npos ? "" : body.substr(start + 4);
}

// The samples of one metric family: the label text ("{...}") -> value.
std::map<std::string, double> Samples(const std::string& text, const std::string& metric) {
  std::map<std::string, double> samples;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, metric.size(), metric) != 0) continue;
    const std::string rest = line.substr(metric.size());
    if (rest.empty() || (rest[0] != '{' && rest[0] != ' ')) continue;
    const size_t space = rest.rfind(' ');
    samples[rest.substr(0, space)] = std::stod(rest.substr(space + 1));
  }
  return samples;
}

double Sum(const std::map<std::string, double>& samples) {
  double total = 0;
  for (const auto& [labels, value] : samples) total += value;
  return total;
}

// CPU seconds (user + system) a process has used, from /proc/PID/stat.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may hold spaces.
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The first three fields of /proc/loadavg: "1.23 2.34 3.45".
std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

std::string ProcField(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, field.size() + 1, field + ":") == 0) {
      std::istringstream values(line.substr(field.size() + 1));
      std::string kib;
      values >> kib;
      return kib;
    }
  }
  return "0";
}

// ---------------------------------------------------------------------------
// The cluster's objects.

void Must(const Result<Json>& result, const std::string& what) {
  if (!result && result.error().code != ErrorCode::kAlreadyExists) {
    Die(what + ": " + result.error().message);
  }
}

void CreateNodesAndModelNodes(kube::Client& client, const Flags& flags) {
  // e2e/cluster/up made the Nodes; each agent makes its ModelNode, owned by its Node.
  kube::ListOptions list;
  list.label_selector = "type=kwok";
  auto nodes = client.ListAll(kube::types::Nodes(), "", list);
  if (!nodes) Die("list nodes: " + nodes.error().message);
  std::map<std::string, std::string> uids;
  for (const Json& node : nodes->items) uids[kube::Name(node)] = kube::Uid(node);
  for (int i = 0; i < flags.nodes; ++i) {
    if (!uids.count(NodeName(i))) {
      Die("node " + NodeName(i) + " missing: start the cluster with --nodes " +
          std::to_string(flags.nodes));
    }
  }
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i; (i = next++) < flags.nodes;) {
        const std::string name = NodeName(i);
        Json mn = {{"apiVersion", kube::types::ModelNodes().ApiVersion()},
                   {"kind", "ModelNode"},
                   {"metadata",
                    {{"name", name},
                     {"ownerReferences", Json::array({{{"apiVersion", "v1"},
                                                       {"kind", "Node"},
                                                       {"name", name},
                                                       {"uid", uids[name]}}})}}}};
        Must(client.Create(kube::types::ModelNodes(), mn), "create ModelNode " + name);
      }
    });
  }
  for (auto& t : threads) t.join();
}

void CreateWorkloads(kube::Client& client, const Flags& flags) {
  Must(client.Create(kube::types::Namespaces(), {{"apiVersion", "v1"},
                                                 {"kind", "Namespace"},
                                                 {"metadata", {{"name", flags.namespace_name}}}}),
       "create namespace");
  for (int m = 0; m < flags.models; ++m) {
    const std::string name = ModelName(m) + "-server";
    Json labels = {{"app", name}};
    Json deployment = {
        {"apiVersion", "apps/v1"},
        {"kind", "Deployment"},
        {"metadata", {{"name", name}, {"namespace", flags.namespace_name}}},
        {"spec",
         {{"replicas", flags.replicas},
          {"selector", {{"matchLabels", labels}}},
          {"template",
           {{"metadata", {{"labels", labels}}},
            {"spec",
             {{"nodeSelector", {{"type", "kwok"}}},
              {"tolerations", Json::array({{{"key", "kwok.x-k8s.io/node"},
                                            {"operator", "Exists"},
                                            {"effect", "NoSchedule"}}})},
              {"containers", Json::array({{{"name", "server"}, {"image", "bench/server"}}})}}}}}}}};
    Must(client.Create(kube::types::Deployments(), deployment), "create deployment " + name);
  }
}

Json ModelVersion(const Flags& flags, int m, int v) {
  return {{"apiVersion", kube::types::ModelVersions().ApiVersion()},
          {"kind", "ModelVersion"},
          {"metadata", {{"name", MvName(m, v)}, {"namespace", flags.namespace_name}}},
          {"spec",
           {{"model", ModelName(m)},
            {"version", VersionName(v)},
            {"source",
             {{"repository", "http://ferry-repo.invalid/repo"},
              {"manifestDigest", Agents::Digest(ModelName(m), VersionName(v))}}},
            {"nodeSelector", {{"ferry.dev/gpu", "true"}}},
            // Every node at once, and Staged only when all hold it: the scale
            // under test is the operator against every node.
            {"staging", {{"maxConcurrentNodes", flags.nodes}, {"minReadyNodes", flags.nodes}}},
            {"serving", {{"deployment", ModelName(m) + "-server"}}},
            {"strategy", {{"canary", {{"steps", Json::array({{{"setWeight", 50}}})}}}}},
            {"rollback", {{"keepVersions", 2}}}}}};
}

// ---------------------------------------------------------------------------

struct Rollout {
  Clock::time_point applied{};
  double staged = -1, promoted = -1;  // seconds after `applied`; -1 = not yet
};

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}
double Max(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
}

int Run(const Flags& flags) {
  auto config = kube::LoadDefaultConfig(flags.kubeconfig);
  if (!config) Die(config.error().message);
  kube::ClientOptions options;
  options.qps = 0;  // the simulated agents are N processes in the real world
  // A connection per writer thread, kept: a pool smaller than the threads
  // would make the agents pay a TLS handshake per status write.
  options.transport.max_idle_connections = static_cast<size_t>(flags.agent_threads) + 8;
  auto client_or = kube::Client::Create(*config, options);
  if (!client_or) Die(client_or.error().message);
  kube::Client& client = **client_or;

  const auto setup_start = Clock::now();
  CreateNodesAndModelNodes(client, flags);
  CreateWorkloads(client, flags);
  Agents agents(client, flags);
  agents.Start();
  // Let every agent write a first status (fresh heartbeat, healthy GPUs).
  std::this_thread::sleep_for(std::chrono::seconds(3));
  std::fprintf(stderr, "setup (ModelNodes, Deployments, first heartbeats): %.1f s\n",
               Seconds(Clock::now() - setup_start));

  const pid_t pid = StartOperator(flags);
  std::string metrics;
  for (int i = 0; i < 600 && (metrics = HttpGet(flags.metrics_port, "/readyz")).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (metrics.empty()) Die("operator not ready after 60 s; see " + flags.operator_log);
  const std::string before = HttpGet(flags.metrics_port, "/metrics");
  const std::string rss_before = ProcField(pid, "VmRSS");
  const std::string load_before = LoadAverage();
  const double cpu_before = CpuSeconds(pid);

  // Watch our ModelVersions; each model's next version is applied once the
  // previous one is Promoted.
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::string, Rollout> rollouts;
  kube::InformerOptions mv_options;
  mv_options.type = kube::types::ModelVersions();
  mv_options.namespace_name = flags.namespace_name;
  kube::Informer mvs(client, mv_options);
  auto seen = [&](const kube::ObjectPtr& object) {
    const auto now = Clock::now();
    std::lock_guard lock(mutex);
    auto it = rollouts.find(kube::Name(*object));
    if (it == rollouts.end()) return;
    const Json& status = kube::ObjectField(*object, "status");
    auto staged = kube::FindCondition(status, "Staged");
    if (it->second.staged < 0 && staged && staged->status == "True") {
      it->second.staged = Seconds(now - it->second.applied);
    }
    if (it->second.promoted < 0 && status.value("phase", "") == "Promoted") {
      it->second.promoted = Seconds(now - it->second.applied);
      changed.notify_all();
    }
  };
  mvs.AddEventHandlers(
      {.on_add = seen,
       .on_update = [&](const kube::ObjectPtr&, const kube::ObjectPtr& o) { seen(o); },
       .on_delete = nullptr});
  mvs.Start();
  mvs.WaitForSync(std::chrono::seconds(30));

  const auto start = Clock::now();
  std::vector<int> next(flags.models, 0);
  auto apply = [&](int m) {
    const int v = next[m]++;
    {
      std::lock_guard lock(mutex);
      rollouts[MvName(m, v)].applied = Clock::now();
    }
    Must(client.Create(kube::types::ModelVersions(), ModelVersion(flags, m, v)),
         "create ModelVersion " + MvName(m, v));
  };
  for (int m = 0; m < flags.models; ++m) apply(m);
  const auto deadline = start + std::chrono::seconds(flags.timeout);
  bool timed_out = false;
  auto last_progress = Clock::now();
  for (;;) {
    std::vector<int> ready;
    bool all_done = true;
    {
      std::unique_lock lock(mutex);
      changed.wait_for(lock, std::chrono::seconds(1));
      for (int m = 0; m < flags.models; ++m) {
        const Rollout& last = rollouts[MvName(m, next[m] - 1)];
        if (last.promoted >= 0 && next[m] < flags.versions) ready.push_back(m);
        if (last.promoted < 0 || next[m] < flags.versions) all_done = false;
      }
    }
    for (int m : ready) apply(m);
    if (all_done) break;
    if (Clock::now() - last_progress > std::chrono::seconds(15)) {
      last_progress = Clock::now();
      std::lock_guard lock(mutex);
      int staged = 0, promoted = 0;
      for (const auto& [name, r] : rollouts) {
        staged += r.staged >= 0;
        promoted += r.promoted >= 0;
      }
      std::fprintf(stderr, "%.0f s: %zu applied, %d staged, %d promoted; agent writes %llu\n",
                   Seconds(Clock::now() - start), rollouts.size(), staged, promoted,
                   static_cast<unsigned long long>(agents.writes()));
    }
    if (Clock::now() > deadline) {
      timed_out = true;
      break;
    }
  }
  const double wall = Seconds(Clock::now() - start);
  const std::string after = HttpGet(flags.metrics_port, "/metrics");
  const std::string hwm = ProcField(pid, "VmHWM"), rss = ProcField(pid, "VmRSS");
  const std::string load_after = LoadAverage();
  const double cpu_used = CpuSeconds(pid) - cpu_before;
  mvs.Stop();
  agents.Stop();
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);

  // Numbers.
  std::vector<double> staged, promoted, first_promoted, later_promoted;
  int done = 0, steps = 0;
  std::vector<std::string> stuck;
  for (const auto& [name, r] : rollouts) {
    if (r.staged >= 0) staged.push_back(r.staged);
    if (r.promoted >= 0) {
      promoted.push_back(r.promoted);
      ++done;
      (name.size() > 6 && name.substr(name.size() - 6) == "-1-0-0" ? first_promoted
                                                                   : later_promoted)
          .push_back(r.promoted);
      // A model's first version has no stable one to canary against: one step
      // (point the Deployment, promote). Later ones: setWeight 50, promote.
      steps += name.substr(name.size() - 6) == "-1-0-0" ? 1 : 2;
    } else {
      stuck.push_back(name);
    }
  }
  auto requests = [](const std::string& text) {
    return Samples(text, "ferry_kube_requests_total");
  };
  const auto req_before = requests(before), req_after = requests(after);
  const double request_count = Sum(req_after) - Sum(req_before);
  const double reconciles = Sum(Samples(after, "ferry_controller_reconcile_total")) -
                            Sum(Samples(before, "ferry_controller_reconcile_total"));
  const double per_node_step = steps ? request_count / (double(flags.nodes) * steps) : 0;
  auto delta = [&](const std::string& metric) {
    return Sum(Samples(after, metric)) - Sum(Samples(before, metric));
  };
  const double throttled = delta("ferry_kube_client_throttled_seconds_total");
  const double reconcile_seconds = delta("ferry_controller_reconcile_duration_seconds_sum");
  const double reconcile_count = delta("ferry_controller_reconcile_duration_seconds_count");
  const double request_seconds = delta("ferry_kube_request_duration_seconds_sum");
  const double request_timed = delta("ferry_kube_request_duration_seconds_count");
  std::vector<double> overhead;
  for (double p : promoted) overhead.push_back(p - flags.agent_delay);
  const double hwm_mib = std::stod(hwm) / 1024, rss_mib = std::stod(rss) / 1024;

  std::printf("| measure | value | target | met |\n|---|---:|---|---|\n");
  std::printf("| nodes / ModelVersions / models | %d / %zu / %d | | |\n", flags.nodes,
              rollouts.size(), flags.models);
  std::printf("| rollouts Promoted | %d of %zu%s | all | %s |\n", done, rollouts.size(),
              timed_out ? " (timed out)" : "", done == int(rollouts.size()) ? "yes" : "**no**");
  std::printf("| apply → Staged, median / max (s) | %.2f / %.2f | | |\n", Median(staged),
              Max(staged));
  std::printf("| apply → Promoted, median / max (s) | %.2f / %.2f | | |\n", Median(promoted),
              Max(promoted));
  std::printf("| … first versions (no canary) median / max (s) | %.2f / %.2f | | |\n",
              Median(first_promoted), Max(first_promoted));
  std::printf("| … later versions (setWeight 50) median / max (s) | %.2f / %.2f | | |\n",
              Median(later_promoted), Max(later_promoted));
  std::printf(
      "| operator overhead = apply→Promoted − %.1f s agent delay, median / max (s) | "
      "%.2f / %.2f | < 1 s | %s |\n",
      flags.agent_delay, Median(overhead), Max(overhead),
      overhead.empty()       ? "n/a (none promoted)"
      : Median(overhead) < 1 ? "yes"
                             : "**no**");
  std::printf("| API requests (operator, during the rollouts) | %.0f | | |\n", request_count);
  std::printf("| API requests per node per step (%d steps) | %.2f | < 5 | %s |\n", steps,
              per_node_step,
              steps == 0          ? "n/a (none promoted)"
              : per_node_step < 5 ? "yes"
                                  : "**no**");
  std::printf("| reconciles / s (%.0f in %.1f s) | %.1f | | |\n", reconciles, wall,
              reconciles / wall);
  std::printf(
      "| operator VmHWM / VmRSS at the end (MiB; %.1f at start) | %.1f / %.1f | < 100 "
      "MiB | %s |\n",
      std::stod(rss_before) / 1024, hwm_mib, rss_mib, hwm_mib < 100 ? "yes" : "**no**");
  std::printf("| simulated agent status writes (failed) | %llu (%llu) | | |\n",
              static_cast<unsigned long long>(agents.writes()),
              static_cast<unsigned long long>(agents.write_failures()));
  std::printf("| operator CPU time during the rollouts (s, user + system) | %.1f | | |\n",
              cpu_used);
  std::printf("| operator: mean reconcile (s) | %.3f | | |\n",
              reconcile_count ? reconcile_seconds / reconcile_count : 0);
  std::printf("| operator: mean API request latency (s) | %.3f | | |\n",
              request_timed ? request_seconds / request_timed : 0);
  std::printf("| operator: time waited for its own QPS limit (s, all threads) | %.1f | | |\n",
              throttled);
  std::printf("| load average (1, 5, 15 min) before / after | %s / %s | | |\n", load_before.c_str(),
              load_after.c_str());
  std::printf(
      "\nOperator requests by verb and code during the rollouts:\n\n| verb, code | "
      "requests | per node per step |\n|---|---:|---:|\n");
  for (const auto& [labels, value] : req_after) {
    const double d = value - (req_before.count(labels) ? req_before.at(labels) : 0);
    if (d > 0) {
      std::printf("| `%s` | %.0f | %.2f |\n", labels.c_str(), d,
                  steps ? d / (double(flags.nodes) * steps) : 0);
    }
  }
  const auto rec = Samples(after, "ferry_controller_reconcile_total");
  for (const auto& [labels, value] : rec)
    std::printf("\nreconciles %s: %.0f", labels.c_str(), value);
  std::printf("\n\nrollout wall time: %.1f s\n", wall);
  if (!stuck.empty()) {
    std::printf("not Promoted:");
    for (const auto& s : stuck) std::printf(" %s", s.c_str());
    std::printf("\n");
  }
  return done == int(rollouts.size()) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--kubeconfig")
      flags.kubeconfig = value();
    else if (arg == "--operator")
      flags.operator_path = value();
    else if (arg == "--operator-log")
      flags.operator_log = value();
    else if (arg == "--namespace")
      flags.namespace_name = value();
    else if (arg == "--nodes")
      flags.nodes = std::stoi(value());
    else if (arg == "--models")
      flags.models = std::stoi(value());
    else if (arg == "--versions")
      flags.versions = std::stoi(value());
    else if (arg == "--replicas")
      flags.replicas = std::stoi(value());
    else if (arg == "--agent-delay")
      flags.agent_delay = std::stod(value());
    else if (arg == "--heartbeat")
      flags.heartbeat = std::stoi(value());
    else if (arg == "--agent-threads")
      flags.agent_threads = std::stoi(value());
    else if (arg == "--metrics-port")
      flags.metrics_port = std::stoi(value());
    else if (arg == "--timeout")
      flags.timeout = std::stoi(value());
    else if (arg == "--operator-arg")
      flags.operator_args.push_back(value());
    else {
      std::fprintf(stderr,
                   "usage: ferry-operator-bench --kubeconfig PATH --operator PATH [--nodes N] "
                   "[--models K] [--versions V] [--replicas R] [--agent-delay S] [--heartbeat S] "
                   "[--agent-threads T] [--metrics-port P] [--operator-log PATH] [--namespace NS] "
                   "[--timeout S] [--operator-arg ARG]...\n");
      return 2;
    }
  }
  if (flags.kubeconfig.empty() || flags.operator_path.empty())
    Die("--kubeconfig and --operator are required");
  g_prefix = flags.namespace_name;
  signal(SIGPIPE, SIG_IGN);
  return Run(flags);
}
