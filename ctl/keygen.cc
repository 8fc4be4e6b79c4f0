// ferryctl keygen --out DIR: a new Ed25519 signing key pair, as PEM files
// private.key (mode 0600) and public.key. The public key is what a cluster
// trusts (the Secret a ModelVersion names holds it under `public.key`).
#include <sys/stat.h>

#include <iostream>

#include "ctl/command.h"
#include "ctl/flags.h"
#include "lib/artifact/sign.h"
#include "lib/common/file.h"

namespace ferry::ctl {

Command AddKeygenCommand(CLI::App& parent) {
  auto* app = parent.add_subcommand("keygen", "make an Ed25519 signing key pair");
  auto out = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  app->add_option("--out", *out, "folder for private.key and public.key")->required();
  app->add_flag("--force", *force, "replace an existing key pair");
  return {app, [app, out, force]() {
            if (auto bad = FirstBadFlag({{"--out", CheckFolderToCreate(*out)}})) {
              return UsageError(*app, *bad);
            }
            const std::filesystem::path dir = *out;
            const auto private_path = dir / "private.key";
            if (std::filesystem::exists(private_path) && !*force) {
              return Fail(*app, MakeError(ErrorCode::kInvalidArgument,
                                          private_path.string() +
                                              " exists; keep it, or pass --force to replace it"));
            }
            std::error_code error;
            std::filesystem::create_directories(dir, error);
            Result<SigningKey> key = SigningKey::Generate();
            if (!key) return Fail(*app, key.error());
            // Written with a restrictive mode from the start, never readable by others.
            const mode_t old_mask = ::umask(077);
            Status wrote = WriteFileAtomically(private_path, key->ToPem());
            ::umask(old_mask);
            if (!wrote) return Fail(*app, wrote.error());
            if (Status s = WriteFileAtomically(dir / "public.key", key->Public().ToPem()); !s) {
              return Fail(*app, s.error());
            }
            std::cout << "wrote " << private_path.string() << " (keep it secret) and "
                      << (dir / "public.key").string() << "\n";
            return 0;
          }};
}

}  // namespace ferry::ctl
