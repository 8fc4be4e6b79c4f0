// ferryctl verify / rollback / ls: inspecting and steering a store on a
// node's volume (or on an air-gapped machine) without the cluster. None of
// them creates a store: a --store that is not one (a typo) is reported, and
// nothing is made there (Store::OpenExisting). verify and ls only read.
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "ctl/command.h"
#include "ctl/flags.h"
#include "lib/artifact/sign.h"
#include "lib/common/cli.h"
#include "lib/common/names.h"
#include "lib/store/store.h"

namespace ferry::ctl {
namespace {

std::optional<std::string> BadVerifyFlags(const std::string& store_root, const std::string& model,
                                          const std::string& version,
                                          const std::string& public_key) {
  return FirstBadFlag({{"--store", CheckInputFolder(store_root)},
                       {"--model", ValidateModelName(model)},
                       {"--version", version.empty() ? OkStatus() : ValidateVersion(version)},
                       {"--pubkey", public_key.empty() ? OkStatus() : CheckInputFile(public_key)}});
}

}  // namespace

Command AddVerifyCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("verify", "re-hash a stored version against its manifest");
  auto store_root = std::make_shared<std::string>();
  auto model = std::make_shared<std::string>();
  auto version = std::make_shared<std::string>();
  auto public_key = std::make_shared<std::string>();
  app->add_option("--store", *store_root, "store root")->required();
  app->add_option("--model", *model, "model name")->required();
  app->add_option("--version", *version, "version (default: the current one)");
  app->add_option("--pubkey", *public_key, "also check the stored manifest's signature");
  return {app, [=]() {
            if (auto bad = BadVerifyFlags(*store_root, *model, *version, *public_key)) {
              return UsageError(*app, *bad);
            }
            Result<store::Store> store = store::Store::OpenExisting(*store_root);
            if (!store) return Fail(*app, store.error());
            std::string checked = *version;
            if (checked.empty()) {
              Result<store::ModelInfo> info = store->Describe(*model);
              if (!info) return Fail(*app, info.error());
              if (!info->current) {
                return Fail(*app, MakeError(ErrorCode::kNotFound,
                                            *model + " has no current version in " + *store_root));
              }
              checked = *info->current;
            }
            if (Status s = store->Verify(*model, checked); !s) return Fail(*app, s.error());
            if (!public_key->empty()) {
              Result<VerifyingKey> key = VerifyingKey::Load(*public_key);
              if (!key) return Fail(*app, key.error());
              Result<std::string> manifest = store->ReadManifest(*model, checked);
              Result<std::string> signature = store->ReadSignature(*model, checked);
              if (!manifest) return Fail(*app, manifest.error());
              if (!signature) return Fail(*app, signature.error());
              if (Status s = key->Verify(*manifest, *signature); !s) return Fail(*app, s.error());
            }
            std::cout << "ok: " << *model << " " << checked << " matches its manifest"
                      << (public_key->empty() ? "" : " and the manifest's signature") << "\n";
            return 0;
          }};
}

Command AddRollbackCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("rollback", "make the previous version current again");
  auto store_root = std::make_shared<std::string>();
  auto model = std::make_shared<std::string>();
  app->add_option("--store", *store_root, "store root")->required();
  app->add_option("--model", *model, "model name")->required();
  return {app, [=]() {
            if (auto bad = FirstBadFlag({{"--store", CheckInputFolder(*store_root)},
                                         {"--model", ValidateModelName(*model)}})) {
              return UsageError(*app, *bad);
            }
            Result<store::Store> store = store::Store::OpenExisting(*store_root);
            if (!store) return Fail(*app, store.error());
            Result<std::string> now = store->Rollback(*model);
            if (!now) return Fail(*app, now.error());
            std::cout << *model << ": " << *now << " is current\n";
            return 0;
          }};
}

namespace {

// A damaged model or version is listed with the rest and named on stderr;
// the exit status (1) says that something needs attention.
int ReportDamage(const CLI::App& app, const std::vector<store::ModelInfo>& models) {
  int damaged = 0;
  for (const store::ModelInfo& model : models) {
    for (const std::string& damage : model.damage) {
      std::cerr << "ferryctl " << app.get_name() << ": " << model.model << ": " << damage << "\n";
      ++damaged;
    }
    for (const store::VersionInfo& v : model.versions) {
      if (v.damage.empty()) continue;
      std::cerr << "ferryctl " << app.get_name() << ": " << model.model << " " << v.version << ": "
                << v.damage << "\n";
      ++damaged;
    }
  }
  if (damaged == 0) return 0;
  std::cerr << "ferryctl " << app.get_name() << ": " << damaged
            << " damaged item(s); `ferryctl verify` checks a version, `ferryctl pull` of it "
               "repairs it\n";
  return kExitFailure;
}

}  // namespace

Command AddLsCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("ls", "list the models and versions in a store");
  auto store_root = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  app->add_option("--store", *store_root, "store root")->required();
  app->add_flag("--json", *json, "print JSON");
  return {app, [=]() {
            if (auto bad = FirstBadFlag({{"--store", CheckInputFolder(*store_root)}})) {
              return UsageError(*app, *bad);
            }
            Result<store::Store> store = store::Store::OpenExisting(*store_root);
            if (!store) return Fail(*app, store.error());
            Result<std::vector<store::ModelInfo>> models = store->List();
            if (!models) return Fail(*app, models.error());
            if (*json) {
              nlohmann::json out = nlohmann::json::array();
              for (const auto& model : *models) {
                nlohmann::json versions = nlohmann::json::array();
                for (const auto& v : model.versions) {
                  nlohmann::json version = {{"version", v.version},
                                            {"current", v.current},
                                            {"bytes", v.bytes},
                                            {"activatedAt", v.activated_at}};
                  if (!v.damage.empty()) version["damage"] = v.damage;
                  versions.push_back(std::move(version));
                }
                nlohmann::json entry = {{"model", model.model},
                                        {"current", model.current ? nlohmann::json(*model.current)
                                                                  : nlohmann::json(nullptr)},
                                        {"versions", versions}};
                if (!model.damage.empty()) entry["damage"] = model.damage;
                out.push_back(std::move(entry));
              }
              std::cout << out.dump(2) << "\n";
              return ReportDamage(*app, *models);
            }
            std::cout << std::left << std::setw(24) << "MODEL" << std::setw(16) << "VERSION"
                      << std::setw(9) << "CURRENT" << std::setw(16) << "BYTES"
                      << "ACTIVATED\n";
            for (const auto& model : *models) {
              for (const auto& v : model.versions) {
                std::cout << std::setw(24) << model.model << std::setw(16) << v.version
                          << std::setw(9) << (v.current ? "*" : "") << std::setw(16) << v.bytes
                          << v.activated_at << "\n";
              }
            }
            return ReportDamage(*app, *models);
          }};
}

}  // namespace ferry::ctl
