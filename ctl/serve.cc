// ferryctl serve: a read-only HTTP repository (GET/HEAD with byte ranges) for
// clusters without object storage. Runs until SIGINT or SIGTERM.
#include <signal.h>

#include <iostream>

#include "ctl/command.h"
#include "lib/common/listen_address.h"
#include "lib/common/log.h"
#include "lib/fetch/server.h"

namespace ferry::ctl {

Command AddServeCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("serve", "serve a repository folder over HTTP, read-only");
  auto repository = std::make_shared<std::string>();
  auto listen = std::make_shared<std::string>("127.0.0.1:8080");
  app->add_option("--repo", *repository, "repository folder")
      ->required()
      ->check(CLI::ExistingDirectory);
  app->add_option("--listen", *listen,
                  "HOST:PORT, [IPV6]:PORT or :PORT to listen on (port 0 picks one)")
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
            auto server =
                fetch::RepositoryServer::Start(*repository, address->host, address->port, log);
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
