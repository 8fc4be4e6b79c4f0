#include "lib/kube/manager.h"

#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace ferry::kube {

namespace {

// Blocks until `stop` is requested.
void WaitForStop(std::stop_token stop) {
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_lock lock(mutex);
  wake.wait(lock, stop, [] { return false; });
}

bool SameSelection(const InformerOptions& a, const InformerOptions& b) {
  return a.namespace_name == b.namespace_name && a.label_selector == b.label_selector &&
         a.field_selector == b.field_selector;
}

}  // namespace

Manager::Manager(Client& client, ManagerOptions options)
    : client_(client), options_(std::move(options)) {}

Manager::~Manager() {
  // Run stops everything before it returns; this covers a manager destroyed
  // without Run, or unwinding past it.
  for (auto& controller : controllers_) controller->Stop();
  StopInformers();
}

void Manager::CheckNotStarted(const char* what) const {
  if (started_) throw std::logic_error(std::string("Manager::") + what + " after Run");
}

Informer& Manager::Watch(InformerOptions options) {
  CheckNotStarted("Watch");
  const std::string key = CacheKey(options.type);
  if (auto found = informers_.find(key); found != informers_.end()) {
    if (!SameSelection(informer_options_.at(key), options)) {
      throw std::invalid_argument("Manager::Watch: " + options.type.Describe() +
                                  " is already watched with another namespace or selector");
    }
    return *found->second;
  }
  if (!options.log) options.log = options_.log;
  informer_options_.emplace(key, options);
  auto informer = std::make_unique<Informer>(client_, std::move(options));
  Informer& result = *informer;
  informers_.emplace(key, std::move(informer));
  return result;
}

void Manager::AddEventHandlers(const ResourceType& type, EventHandlers handlers) {
  CheckNotStarted("AddEventHandlers");
  auto found = informers_.find(CacheKey(type));
  if (found == informers_.end()) {
    throw std::out_of_range("Manager::AddEventHandlers: " + type.Describe() + " is not watched");
  }
  found->second->AddEventHandlers(std::move(handlers));
}

Controller& Manager::AddController(ControllerOptions options, Reconciler reconciler) {
  CheckNotStarted("AddController");
  if (!options.logger) options.logger = options_.log;
  controllers_.push_back(std::make_unique<Controller>(std::move(options), std::move(reconciler)));
  return *controllers_.back();
}

const Store& Manager::Of(const ResourceType& type) const {
  auto found = informers_.find(CacheKey(type));
  if (found == informers_.end()) {
    throw std::out_of_range("no cache of " + type.Describe() + ": the manager does not watch it");
  }
  return found->second->store();
}

Status Manager::Ready() const {
  if (!started_) return MakeError(ErrorCode::kUnavailable, "manager not started");
  if (synced_) return OkStatus();
  for (const auto& [key, informer] : informers_) {
    if (!informer->HasSynced()) {
      return MakeError(ErrorCode::kUnavailable,
                       "cache of " + informer_options_.at(key).type.Describe() + " not synced");
    }
  }
  return OkStatus();
}

ManagerStats Manager::Stats() const {
  ManagerStats stats;
  stats.synced = synced_;
  stats.leading = leading_;
  stats.terms = terms_;
  for (const auto& [key, informer] : informers_) stats.informers[key] = informer->stats();
  for (const auto& controller : controllers_) {
    stats.controllers[controller->name()] = controller->Stats();
  }
  return stats;
}

Status Manager::WaitForSync(std::stop_token stop) {
  const auto deadline = std::chrono::steady_clock::now() + options_.sync_timeout;
  for (const auto& [key, informer] : informers_) {
    // Short waits, so that a stop request is seen within one of them.
    while (!informer->WaitForSync(std::chrono::milliseconds(50))) {
      if (stop.stop_requested()) return OkStatus();
      if (std::chrono::steady_clock::now() >= deadline) {
        return MakeError(ErrorCode::kUnavailable,
                         "cache of " + informer_options_.at(key).type.Describe() +
                             " did not sync within " +
                             std::to_string(options_.sync_timeout.count()) + " ms");
      }
    }
  }
  synced_ = true;
  return OkStatus();
}

void Manager::Lead(std::stop_token stop) {
  ++terms_;
  for (auto& controller : controllers_) controller->Start();
  leading_ = true;
  if (options_.log) options_.log->info("manager: {} controller(s) started", controllers_.size());
  WaitForStop(stop);
  // Stopped before leading_ turns false: a caller that sees IsLeader() false
  // knows no reconcile of this replica is running any more.
  for (auto& controller : controllers_) controller->Stop();
  leading_ = false;
}

void Manager::StopInformers() {
  for (auto& [key, informer] : informers_) informer->Stop();
}

Status Manager::Run(std::stop_token stop) {
  if (started_.exchange(true)) {
    return MakeError(ErrorCode::kInvalidArgument, "Manager::Run: a manager runs once");
  }
  for (auto& [key, informer] : informers_) informer->Start();
  Status synced = WaitForSync(stop);
  if (!synced.ok() || stop.stop_requested()) {
    StopInformers();
    return synced;
  }

  Status outcome;
  if (!options_.leader_election) {
    Lead(stop);
  } else {
    Result<std::unique_ptr<LeaderElector>> elector =
        LeaderElector::Create(client_, *options_.leader_election);
    if (!elector) {
      StopInformers();
      return elector.error().Wrap("leader election");
    }
    LeaderElector& candidate = **elector;
    std::stop_callback stop_campaign(stop, [&candidate] { candidate.Stop(); });
    outcome = candidate.Run([this](std::stop_token lead_stop) { Lead(lead_stop); });
    if (outcome.ok() && !stop.stop_requested()) {
      // The elector gives up only when told to; anything else is a lost term.
      outcome = MakeError(ErrorCode::kUnavailable, "leader election ended unasked");
    }
    if (!outcome.ok() && options_.log) {
      options_.log->error("manager: {}; exiting so that a fresh process campaigns",
                          outcome.error().message);
    }
  }
  StopInformers();
  return outcome;
}

}  // namespace ferry::kube
