// ferryctl serve: a read-only HTTP repository (GET/HEAD with byte ranges) for
// clusters without object storage. Runs until SIGINT or SIGTERM. The limits on
// what each client may hold (docs/fetch.md) keep slow or hostile clients from
// stopping it answering the nodes; the few an operator may need to change are
// flags.
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "ctl/command.h"
#include "lib/common/listen_address.h"
#include "lib/common/log.h"
#include "lib/fetch/server.h"

namespace ferry::ctl {
namespace {

// Each connection is a descriptor, and files being served are more: a soft
// limit of 1024 (common in containers) would refuse clients long before
// --max-connections does, so it is raised as far as the hard limit allows.
void RaiseOpenFileLimit(int connections, spdlog::logger& log) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t wanted = static_cast<rlim_t>(connections) * 2 + 256;
  if (limit.rlim_cur >= wanted) return;
  limit.rlim_cur = std::min(wanted, limit.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < wanted) {
    log.warn("the limit on open files ({}) is low for {} connections; raise it (ulimit -n)",
             limit.rlim_cur, connections);
  }
}

}  // namespace

Command AddServeCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("serve", "serve a repository folder over HTTP, read-only");
  auto repository = std::make_shared<std::string>();
  auto listen = std::make_shared<std::string>("127.0.0.1:8080");
  auto limits = std::make_shared<fetch::ClientLimits>();
  auto header_seconds = std::make_shared<int>(
      static_cast<int>(std::chrono::ceil<std::chrono::seconds>(limits->header_timeout).count()));
  app->add_option("--repo", *repository, "repository folder")
      ->required()
      ->check(CLI::ExistingDirectory);
  app->add_option("--listen", *listen,
                  "HOST:PORT, [IPV6]:PORT or :PORT to listen on (port 0 picks one)")
      ->capture_default_str();
  app->add_option("--header-timeout", *header_seconds,
                  "seconds a client has to send a whole request header (slow clients are closed)")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app->add_option("--max-connections", limits->max_connections, "open connections at most")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app->add_option("--max-connections-per-client", limits->max_connections_per_client,
                  "open connections at most from one address (raise it behind NAT)")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app->add_option("--threads", limits->worker_threads, "threads that answer requests")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  return {app, [=]() {
            Result<ListenAddress> address = ParseListenAddress(*listen);
            if (!address) return UsageError(*app, "--listen: " + address.error().message);
            // Block the stop signals in every thread (the server's included) so
            // that this thread alone receives them through sigwait.
            sigset_t stop_signals;
            sigemptyset(&stop_signals);
            sigaddset(&stop_signals, SIGINT);
            sigaddset(&stop_signals, SIGTERM);
            pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
            auto log = MakeLogger("serve", LogFormat::kText);
            limits->header_timeout = std::chrono::seconds(*header_seconds);
            RaiseOpenFileLimit(limits->max_connections, *log);
            auto server = fetch::RepositoryServer::Start(*repository, address->host, address->port,
                                                         log, *limits);
            if (!server) return Fail(*app, server.error());
            const ListenAddress bound{address->host, (*server)->port()};
            std::cout << "serving " << *repository << " on http://" << bound.ToString() << "/"
                      << std::endl;
            int received = 0;
            sigwait(&stop_signals, &received);
            log->info("stopping on signal {}", received);
            (*server)->Stop();
            return 0;
          }};
}

}  // namespace ferry::ctl
