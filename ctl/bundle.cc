// ferryctl bundle: the objects and deltas that move a store from one version to
// another, in one tar file to carry to an air-gapped site.
#include "lib/pipeline/bundle.h"

#include <iostream>

#include "ctl/command.h"
#include "ctl/flags.h"
#include "lib/common/names.h"

namespace ferry::ctl {

Command AddBundleCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("bundle", "pack what moves a store from --from to --to");
  auto repository = std::make_shared<std::string>();
  auto model = std::make_shared<std::string>();
  auto from = std::make_shared<std::string>();
  auto to = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  app->add_option("--repo", *repository, "repository folder")->required();
  app->add_option("--model", *model, "model name")->required();
  app->add_option("--from", *from, "the version the target store holds")->required();
  app->add_option("--to", *to, "the version to bring")->required();
  app->add_option("-o,--out", *out, "bundle file to write (.tar)")->required();
  return {app, [=]() {
            if (auto bad = FirstBadFlag({{"--repo", CheckInputFolder(*repository)},
                                         {"--model", ValidateModelName(*model)},
                                         {"--from", ValidateVersion(*from)},
                                         {"--to", ValidateVersion(*to)},
                                         {"-o", CheckOutputFile(*out)}})) {
              return UsageError(*app, *bad);
            }
            if (*from == *to) {
              return UsageError(*app, "--from and --to are both " + *to +
                                          "; a bundle moves a store from one version to another");
            }
            Result<BundleReport> report = CreateBundle(*repository, *model, *from, *to, *out);
            if (!report) return Fail(*app, report.error());
            std::cout << "wrote " << *out << ": " << report->objects << " object(s), "
                      << report->bytes << " bytes; apply with: ferryctl pull --bundle " << *out
                      << " --model " << *model << " --version " << *to
                      << " --store ROOT --pubkey PUB.pem\n";
            return 0;
          }};
}

}  // namespace ferry::ctl
