// A repository with two published versions of the real gpt-a checkpoint,
// made by the real ferryctl binary, for tests that pull, corrupt and crash:
//   1.0.0: model.safetensors (gpt-a v1.0), config.json, tokenizer.json
//   1.1.0: model.safetensors (gpt-a v1.1, continued training), the same
//          config.json, tokenizer.json with a small edit; deltas from 1.0.0
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace ferry::testing {

class FerryctlTest : public ::testing::Test {
 public:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

  // Runs build/bin/ferryctl with `args`.
  static ProcessResult Ferryctl(const std::vector<std::string>& args);
  // pull --repo <repo> --model gpt-a --version <version> --store <store> --pubkey <key>
  static ProcessResult Pull(const std::filesystem::path& repo, const std::string& version,
                            const std::filesystem::path& store,
                            const std::vector<std::string>& extra = {});
  static std::string CurrentVersion(const std::filesystem::path& store);
  static std::string ReadFile(const std::filesystem::path& path);

  static std::filesystem::path Root();
  static std::filesystem::path Repository() { return Root() / "repo"; }
  static std::filesystem::path Keys() { return Root() / "keys"; }
  static std::filesystem::path Input(const std::string& version) { return Root() / version; }

 protected:
  // Copies the published repository, for a test that damages its copy.
  std::filesystem::path CopyOfRepository();
  // A store holding 1.0.0 as current.
  std::filesystem::path StoreWithFirstVersion();

  TempDir scratch_;

 private:
  static TempDir* root_;
};

}  // namespace ferry::testing
