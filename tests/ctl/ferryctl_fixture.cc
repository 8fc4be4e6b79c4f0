#include "tests/ctl/ferryctl_fixture.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/paths.h"

namespace ferry::testing {

namespace fs = std::filesystem;

TempDir* FerryctlTest::root_ = nullptr;

fs::path FerryctlTest::Root() { return root_->path(); }

ProcessResult FerryctlTest::Ferryctl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {BinaryPath("ferryctl")};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv);
}

ProcessResult FerryctlTest::Pull(const fs::path& repo, const std::string& version,
                                 const fs::path& store, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"pull",
                                   "--repo",
                                   repo.string(),
                                   "--model",
                                   "gpt-a",
                                   "--version",
                                   version,
                                   "--store",
                                   store.string(),
                                   "--pubkey",
                                   (Keys() / "public.key").string(),
                                   "--plain-progress"};
  args.insert(args.end(), extra.begin(), extra.end());
  return Ferryctl(args);
}

std::string FerryctlTest::CurrentVersion(const fs::path& store) {
  ProcessResult listed = Ferryctl({"ls", "--store", store.string(), "--json"});
  if (listed.exit_code != 0) return "ls failed: " + listed.err;
  for (const auto& model : nlohmann::json::parse(listed.out)) {
    if (model["model"] == "gpt-a" && model["current"].is_string()) return model["current"];
  }
  return "";
}

std::string FerryctlTest::ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

void FerryctlTest::SetUpTestSuite() {
  root_ = new TempDir();  // NOLINT: shared by the suite, deleted in TearDownTestSuite
  ASSERT_TRUE(fs::exists(ModelPath("gpt-a-v1.0.safetensors")))
      << "the real checkpoints must be at " << ModelPath("");
  ProcessResult keygen = Ferryctl({"keygen", "--out", Keys().string()});
  ASSERT_EQ(keygen.exit_code, 0) << keygen.err;

  std::string tokenizer = "{\"version\": \"1.0\", \"model\": {\"type\": \"BPE\", \"vocab\": {";
  for (int i = 0; i < 5000; ++i)
    tokenizer += "\"tok" + std::to_string(i) + "\": " + std::to_string(i) + ", ";
  tokenizer += "\"end\": 5000}}}";
  for (const auto& [version, weights] : {std::pair{"1.0.0", "gpt-a-v1.0.safetensors"},
                                         std::pair{"1.1.0", "gpt-a-v1.1.safetensors"}}) {
    fs::create_directories(Input(version));
    fs::copy_file(ModelPath(weights), Input(version) / "model.safetensors");
    fs::copy_file(ModelPath("gpt-a-config.json"), Input(version) / "config.json");
    std::string edited = tokenizer;
    if (std::string(version) == "1.1.0") edited.replace(edited.find("tok4242"), 7, "tok_new");
    std::ofstream(Input(version) / "tokenizer.json") << edited;
  }
  ProcessResult first =
      Ferryctl({"publish", "--repo", Repository().string(), "--model", "gpt-a", "--version",
                "1.0.0", "--key", (Keys() / "private.key").string(), Input("1.0.0").string()});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ProcessResult second = Ferryctl({"publish", "--repo", Repository().string(), "--model", "gpt-a",
                                   "--version", "1.1.0", "--key", (Keys() / "private.key").string(),
                                   "--delta-from", "1.0.0", Input("1.1.0").string()});
  ASSERT_EQ(second.exit_code, 0) << second.err;
}

void FerryctlTest::TearDownTestSuite() {
  delete root_;  // NOLINT
  root_ = nullptr;
}

fs::path FerryctlTest::CopyOfRepository() {
  const fs::path copy = scratch_ / "repo";
  fs::copy(Repository(), copy, fs::copy_options::recursive);
  return copy;
}

fs::path FerryctlTest::StoreWithFirstVersion() {
  const fs::path store = scratch_ / "store";
  ProcessResult pulled = Pull(Repository(), "1.0.0", store);
  EXPECT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_EQ(CurrentVersion(store), "1.0.0");
  return store;
}

}  // namespace ferry::testing
