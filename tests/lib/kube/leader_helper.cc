// A stand-in for a replica of a controller, for the leader-election test:
// it campaigns for a Lease through lib/kube's LeaderElector and, while it
// leads, "reconciles" in a loop, appending one line per reconcile to a log:
//   reconcile <identity> <start ns> <end ns>      (CLOCK_REALTIME)
// so the test can check that no two replicas ever reconciled at once. SIGTERM
// stops it gracefully (releasing the Lease); the test SIGKILLs it to crash it.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "lib/common/log.h"
#include "lib/kube/leader_election.h"

namespace {

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One write(2) per line on an O_APPEND file, so lines of two processes never interleave.
void AppendLine(int fd, const std::string& line) {
  const std::string with_newline = line + "\n";
  if (write(fd, with_newline.data(), with_newline.size()) < 0) std::perror("write");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"leader election test replica"};
  std::string kubeconfig, lease_namespace, lease_name, identity, log_path;
  int lease_ms = 3000, renew_ms = 2000, retry_ms = 500;
  app.add_option("--kubeconfig", kubeconfig)->required();
  app.add_option("--namespace", lease_namespace)->required();
  app.add_option("--lease", lease_name)->required();
  app.add_option("--identity", identity)->required();
  app.add_option("--log", log_path)->required();
  app.add_option("--lease-ms", lease_ms);
  app.add_option("--renew-ms", renew_ms);
  app.add_option("--retry-ms", retry_ms);
  CLI11_PARSE(app, argc, argv);

  // SIGTERM is taken by a thread of ours, so the election can release the Lease.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);

  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return 1;
  auto log = ferry::MakeLogger(identity, ferry::LogFormat::kText);
  auto config = ferry::kube::LoadKubeconfigFiles({kubeconfig});
  if (!config) {
    log->error("{}", config.error().message);
    return 1;
  }
  // Short request timeouts: a renewal must fail well within the renew deadline.
  ferry::kube::ClientOptions client_options;
  client_options.max_retries = 1;
  client_options.transport.request_timeout = std::chrono::seconds(2);
  auto client = ferry::kube::Client::Create(*config, client_options);
  if (!client) {
    log->error("{}", client.error().message);
    return 1;
  }
  auto elector = ferry::kube::LeaderElector::Create(
      **client, {.lease_namespace = lease_namespace,
                 .lease_name = lease_name,
                 .identity = identity,
                 .lease_duration = std::chrono::milliseconds(lease_ms),
                 .renew_deadline = std::chrono::milliseconds(renew_ms),
                 .retry_period = std::chrono::milliseconds(retry_ms),
                 .log = log});
  if (!elector) {
    log->error("{}", elector.error().message);
    return 2;
  }
  std::thread on_sigterm([&] {
    int signal = 0;
    sigwait(&term, &signal);
    (*elector)->Stop();
  });

  const ferry::Status ended = (*elector)->Run([&](std::stop_token stop) {
    while (!stop.stop_requested()) {
      const int64_t start = NowNanos();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      AppendLine(log_fd, "reconcile " + identity + " " + std::to_string(start) + " " +
                             std::to_string(NowNanos()));
    }
  });
  // Joined, not detached, so that a late Stop never touches a destroyed
  // elector: when leadership ended without SIGTERM, send it to ourselves.
  kill(getpid(), SIGTERM);
  on_sigterm.join();
  AppendLine(log_fd, "stopped " + identity + " " + std::to_string(NowNanos()));
  close(log_fd);
  return ended.ok() ? 0 : 1;
}
