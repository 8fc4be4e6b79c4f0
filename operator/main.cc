// ferry-operator: watches ModelVersion resources and drives their rollouts:
// staging waves onto the nodes' agents, canary steps on the serving
// Deployment, promotion, abort and rollback through the status. This file
// wires the pieces: configuration, the client, the manager with its caches
// and leader election, the controller, and /metrics, /healthz, /readyz.
#include <signal.h>
#include <spdlog/fmt/fmt.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "lib/common/cli.h"
#include "lib/common/health_server.h"
#include "lib/common/log.h"
#include "lib/common/log_fields.h"
#include "lib/common/metrics.h"
#include "lib/common/version.h"
#include "lib/kube/client.h"
#include "lib/kube/client_metrics.h"
#include "lib/kube/config.h"
#include "lib/kube/controller_metrics.h"
#include "lib/kube/enqueue.h"
#include "lib/kube/event_sink.h"
#include "lib/kube/manager.h"
#include "operator/model_version_reconciler.h"
#include "operator/naming.h"
#include "operator/watches.h"

namespace {

using namespace ferry;

struct Flags {
  std::string kubeconfig;
  std::string namespace_name;
  bool leader_elect = false;
  std::string metrics_addr = "127.0.0.1:8080";
  std::string log_format = "text";
  int workers = 4;
  // A rollout writes every selected node's ModelNode per wave, from several
  // threads: client-go's 5 QPS (or our library's 50) would make a wave of a
  // thousand nodes take minutes. The API server's priority and fairness
  // still shields it (429s are retried).
  double kube_qps = 200;
  int kube_burst = 400;
};

// This replica's name for the Lease and for Events: the pod name when the
// chart sets POD_NAME, else host name and pid.
std::string Identity() {
  if (const char* pod = std::getenv("POD_NAME"); pod && *pod) return pod;
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + std::to_string(getpid());
}

kube::InformerOptions Informer(const kube::ResourceType& type, const std::string& ns,
                               std::string label_selector = "") {
  kube::InformerOptions options;
  options.type = type;
  options.namespace_name = type.namespaced ? ns : "";
  options.label_selector = std::move(label_selector);
  return options;
}

int Run(const Flags& flags) {
  auto log = MakeLogger("operator", *ParseLogFormat(flags.log_format));
  auto config = kube::LoadDefaultConfig(flags.kubeconfig);
  if (!config) {
    log->error("ferry-operator: {}", config.error().message);
    return kExitFailure;
  }
  MetricsRegistry registry;
  kube::ClientMetrics client_metrics(registry);
  kube::ControllerMetrics controller_metrics(registry);
  kube::ClientOptions client_options;
  client_options.log = log;
  client_options.metrics = &client_metrics;
  client_options.qps = flags.kube_qps;
  client_options.burst = flags.kube_burst;
  auto client = kube::Client::Create(*config, client_options);
  if (!client) {
    log->error("ferry-operator: {}", client.error().message);
    return kExitFailure;
  }
  const std::string identity = Identity();
  kube::ManagerOptions manager_options;
  manager_options.log = log;
  if (flags.leader_elect) {
    kube::LeaderElectionOptions election;
    election.lease_namespace =
        flags.namespace_name.empty() ? (*client)->default_namespace() : flags.namespace_name;
    election.lease_name = "ferry-operator";
    election.identity = identity;
    election.log = log;
    manager_options.leader_election = election;
  }
  kube::Manager manager(**client, manager_options);
  const std::string& ns = flags.namespace_name;
  for (const kube::ResourceType& type : operator_::WatchedTypes()) {
    // Only the new versions' pods matter (where they run, whether they can
    // be placed); the rest of a cluster's pods would only cost memory.
    const bool pods = type.plural == "pods";
    manager.Watch(Informer(type, ns,
                           pods ? std::string(operator_::kTrackLabel) + " in (" +
                                      std::string(operator_::kCanaryTrack) + "," +
                                      std::string(operator_::kGreenTrack) + ")"
                                : ""));
  }

  SystemClock clock;
  kube::ClusterEventRecorderOptions event_options;
  event_options.controller = "ferry.dev/operator";
  event_options.instance = identity;
  event_options.log = log;
  kube::ClusterEventRecorder events(**client, clock, event_options);
  operator_::RolloutMetrics rollout_metrics(registry);
  operator_::ModelVersionReconciler reconciler(
      {.caches = manager, .writer = **client, .events = events, .clock = clock, .log = log},
      &rollout_metrics);
  kube::ControllerOptions controller_options;
  controller_options.name = "modelversion";
  controller_options.workers = flags.workers;
  controller_options.logger = log;
  controller_options.metrics = &controller_metrics;
  kube::Controller& controller =
      manager.AddController(std::move(controller_options),
                            [&](const std::string& key) { return reconciler.Reconcile(key); });

  const kube::Store& versions = manager.Of(kube::types::ModelVersions());
  manager.AddEventHandlers(kube::types::ModelVersions(),
                           kube::EnqueueMapped(controller, [&](const kube::Json& mv) {
                             return operator_::ForModelVersion(versions, mv);
                           }));
  manager.AddEventHandlers(kube::types::ModelNodes(),
                           kube::EnqueueMapped(controller, [&](const kube::Json& node) {
                             return operator_::ForModelNode(versions, node);
                           }));
  manager.AddEventHandlers(kube::types::Nodes(),
                           kube::EnqueueMapped(controller, [&](const kube::Json& node) {
                             return operator_::ForNode(versions, node);
                           }));
  manager.AddEventHandlers(kube::types::Deployments(),
                           kube::EnqueueMapped(controller, [&](const kube::Json& deployment) {
                             return operator_::ForDeployment(versions, deployment);
                           }));
  manager.AddEventHandlers(kube::types::Secrets(),
                           kube::EnqueueMapped(controller, [&](const kube::Json& secret) {
                             return operator_::ForSecret(versions, secret);
                           }));
  manager.AddEventHandlers(kube::types::Services(),
                           kube::EnqueueMapped(controller, [&](const kube::Json& service) {
                             return operator_::ForService(versions, service);
                           }));
  manager.AddEventHandlers(kube::types::Pods(),
                           kube::EnqueueMapped(controller, [](const kube::Json& pod) {
                             return operator_::ForCanaryPod(pod);
                           }));

  auto health = HealthServer::Start(flags.metrics_addr, registry, [&] { return manager.Ready(); });
  if (!health) {
    log->error("ferry-operator: {}", health.error().message);
    return kExitFailure;
  }

  // SIGTERM and SIGINT end Run gracefully: this thread alone takes them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::stop_source stop;
  std::jthread signals([&](std::stop_token) {
    int received = 0;
    sigwait(&stop_signals, &received);
    Log(log, spdlog::level::info, "stopping", {{"signal", received}});
    stop.request_stop();
  });

  Log(log, spdlog::level::info, "ferry-operator started",
      {{"version", kVersion},
       {"server", (*client)->server()},
       {"namespace", ns.empty() ? "(all)" : ns},
       {"identity", identity},
       {"leader_elect", flags.leader_elect},
       {"metrics", flags.metrics_addr},
       {"workers", static_cast<int64_t>(flags.workers)},
       {"kube_qps", fmt::format("{:g}", flags.kube_qps)},
       {"kube_burst", static_cast<int64_t>(flags.kube_burst)}});
  // ferry_rollouts is a count over the cache, refreshed on its own clock so
  // that no reconcile pays for a scan of every ModelVersion.
  std::jthread recount([&](std::stop_token stopping) {
    std::mutex mutex;
    std::condition_variable_any wake;
    while (!stopping.stop_requested()) {
      if (manager.Ready().ok()) rollout_metrics.Recount(manager.Of(kube::types::ModelVersions()));
      std::unique_lock lock(mutex);
      wake.wait_for(lock, stopping, std::chrono::seconds(10), [] { return false; });
    }
  });
  Status ran = manager.Run(stop.get_token());
  if (!stop.stop_requested()) {
    // Wake the signal thread so that it can be joined.
    pthread_kill(signals.native_handle(), SIGTERM);
  }
  if (!ran) {
    log->error("ferry-operator: {}", ran.error().message);
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ferry-operator: rolls ModelVersion resources out across a cluster",
               "ferry-operator"};
  ferry::AddVersionFlag(app);
  Flags flags;
  app.add_option("--kubeconfig", flags.kubeconfig,
                 "kubeconfig file; in-cluster config when omitted");
  app.add_option("--namespace", flags.namespace_name,
                 "watch only this namespace; all when omitted");
  app.add_flag("--leader-elect", flags.leader_elect, "elect one active replica through a Lease");
  app.add_option("--metrics-addr", flags.metrics_addr,
                 "HOST:PORT for /metrics, /healthz and /readyz")
      ->capture_default_str();
  app.add_option("--log-format", flags.log_format, "log format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--workers", flags.workers, "ModelVersions reconciled at once")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--kube-qps", flags.kube_qps,
                 "API requests per second the operator sustains; 0 = no client-side limit")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--kube-burst", flags.kube_burst, "API requests allowed at once above --kube-qps")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  if (auto exit_code = ferry::ParseCommandLine(app, argc, argv)) return *exit_code;
  return Run(flags);
}
