// ferryctl publish → pull → verify → rollback on the real gpt-a checkpoints,
// and every way a damaged or hostile repository must be refused with the
// version in service left as it was.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "lib/artifact/repository_layout.h"
#include "lib/artifact/sign.h"
#include "tests/ctl/ferryctl_fixture.h"

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;

ino_t Inode(const fs::path& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 ? info.st_ino : 0;
}

void FlipBit(const fs::path& path, size_t byte, int bit) {
  std::string contents = FerryctlTest::ReadFile(path);
  ASSERT_LT(byte, contents.size());
  contents[byte] = static_cast<char>(contents[byte] ^ (1 << bit));
  fs::permissions(path, fs::perms::owner_write, fs::perm_options::add);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
}

// The object names (hex) of a file's chunks, or of its delta's, read from the manifest.
std::vector<std::string> ObjectsOf(const fs::path& repo, const std::string& version,
                                   const std::string& path, bool delta) {
  auto manifest =
      nlohmann::json::parse(FerryctlTest::ReadFile(repo / ManifestPath("gpt-a", version)));
  const nlohmann::json& files = delta ? manifest["deltas"][0]["files"] : manifest["files"];
  std::vector<std::string> objects;
  for (const auto& file : files) {
    if (file["path"] != path) continue;
    for (const auto& chunk : file["chunks"]) {
      objects.push_back(chunk["sha256"].get<std::string>().substr(7));
    }
  }
  return objects;
}

fs::path ObjectFile(const fs::path& repo, const std::string& hex) {
  return repo / "objects" / hex.substr(0, 2) / (hex + ".zst");
}

TEST_F(FerryctlTest, PullsFirstVersionThenUpdatesThroughDeltasBitExactly) {
  const fs::path store = StoreWithFirstVersion();
  ProcessResult verified = Ferryctl({"verify", "--store", store.string(), "--model", "gpt-a",
                                     "--pubkey", (Keys() / "public.key").string()});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;

  ProcessResult update = Pull(Repository(), "1.1.0", store);
  ASSERT_EQ(update.exit_code, 0) << update.err;
  EXPECT_EQ(CurrentVersion(store), "1.1.0");
  const fs::path current = store / "gpt-a" / "current";
  for (const char* file : {"model.safetensors", "config.json", "tokenizer.json"}) {
    EXPECT_EQ(ReadFile(current / file), ReadFile(Input("1.1.0") / file)) << file;
  }
  EXPECT_NE(update.err.find("2 patched from deltas"), std::string::npos) << update.err;
  EXPECT_NE(update.err.find("1 linked"), std::string::npos) << update.err;
  // The unchanged config is the same inode in both versions: linked, not copied.
  EXPECT_EQ(Inode(current / "config.json"),
            Inode(store / "gpt-a" / "versions" / "1.0.0" / "config.json"));
}

TEST_F(FerryctlTest, RollbackMakesThePreviousVersionCurrentAgain) {
  const fs::path store = StoreWithFirstVersion();
  ASSERT_EQ(Pull(Repository(), "1.1.0", store).exit_code, 0);
  ProcessResult rolled = Ferryctl({"rollback", "--store", store.string(), "--model", "gpt-a"});
  ASSERT_EQ(rolled.exit_code, 0) << rolled.err;
  EXPECT_EQ(CurrentVersion(store), "1.0.0");
  EXPECT_EQ(ReadFile(store / "gpt-a" / "current" / "model.safetensors"),
            ReadFile(Input("1.0.0") / "model.safetensors"));
  EXPECT_EQ(Ferryctl({"verify", "--store", store.string(), "--model", "gpt-a"}).exit_code, 0);
}

TEST_F(FerryctlTest, BundleCarriesExactlyWhatMovesOneVersionToTheNext) {
  const fs::path bundle = scratch_ / "update.tar";
  ProcessResult made = Ferryctl({"bundle", "--repo", Repository().string(), "--model", "gpt-a",
                                 "--from", "1.0.0", "--to", "1.1.0", "-o", bundle.string()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_LT(fs::file_size(bundle), fs::file_size(Input("1.1.0") / "model.safetensors") * 6 / 10)
      << "a bundle carries deltas, not the model";

  const fs::path empty_store = scratch_ / "empty";
  ProcessResult refused =
      Ferryctl({"pull", "--bundle", bundle.string(), "--model", "gpt-a", "--version", "1.1.0",
                "--store", empty_store.string(), "--pubkey", (Keys() / "public.key").string()});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("not in bundle"), std::string::npos) << refused.err;

  const fs::path store = StoreWithFirstVersion();
  ProcessResult pulled =
      Ferryctl({"pull", "--bundle", bundle.string(), "--model", "gpt-a", "--version", "1.1.0",
                "--store", store.string(), "--pubkey", (Keys() / "public.key").string()});
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_EQ(CurrentVersion(store), "1.1.0");
  EXPECT_EQ(ReadFile(store / "gpt-a" / "current" / "model.safetensors"),
            ReadFile(Input("1.1.0") / "model.safetensors"));
}

// After a refused pull, the store must be exactly as before: 1.0.0 current and whole.
void ExpectStoreUnchanged(const fs::path& store) {
  EXPECT_EQ(FerryctlTest::CurrentVersion(store), "1.0.0");
  ProcessResult verified =
      FerryctlTest::Ferryctl({"verify", "--store", store.string(), "--model", "gpt-a"});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
}

TEST_F(FerryctlTest, FlippedBitInManifestOrSignatureIsRefused) {
  for (const std::string& file :
       std::vector<std::string>{ManifestPath("gpt-a", "1.1.0"), SignaturePath("gpt-a", "1.1.0")}) {
    for (size_t byte : {size_t{0}, size_t{37}, size_t{63}}) {
      SCOPED_TRACE(file + " byte " + std::to_string(byte));
      const fs::path store = StoreWithFirstVersion();
      const fs::path repo = CopyOfRepository();
      FlipBit(repo / file, byte, 3);
      ProcessResult pulled = Pull(repo, "1.1.0", store);
      EXPECT_EQ(pulled.exit_code, 1);
      EXPECT_NE(pulled.err.find("signature"), std::string::npos) << pulled.err;
      ExpectStoreUnchanged(store);
      fs::remove_all(repo);
      fs::remove_all(store);
    }
  }
}

TEST_F(FerryctlTest, ManifestPinnedByDigestMustMatch) {
  const fs::path store = StoreWithFirstVersion();
  ProcessResult pulled =
      Pull(Repository(), "1.1.0", store, {"--digest", "sha256:" + std::string(64, 'a')});
  EXPECT_EQ(pulled.exit_code, 1);
  EXPECT_NE(pulled.err.find("pinned"), std::string::npos) << pulled.err;
  ExpectStoreUnchanged(store);
}

TEST_F(FerryctlTest, AnotherPublishersKeyIsRefused) {
  const fs::path store = StoreWithFirstVersion();
  ASSERT_EQ(Ferryctl({"keygen", "--out", (scratch_ / "other").string()}).exit_code, 0);
  ProcessResult pulled = Ferryctl({"pull", "--repo", Repository().string(), "--model", "gpt-a",
                                   "--version", "1.1.0", "--store", store.string(), "--pubkey",
                                   (scratch_ / "other" / "public.key").string()});
  EXPECT_EQ(pulled.exit_code, 1);
  EXPECT_NE(pulled.err.find("another key"), std::string::npos) << pulled.err;
  ExpectStoreUnchanged(store);
}

TEST_F(FerryctlTest, DamagedChunkObjectIsRefusedAndNothingBecomesActive) {
  const fs::path repo = CopyOfRepository();
  const auto objects = ObjectsOf(repo, "1.0.0", "model.safetensors", false);
  ASSERT_FALSE(objects.empty());
  FlipBit(ObjectFile(repo, objects.back()), 100, 0);
  const fs::path store = scratch_ / "store";
  ProcessResult pulled = Pull(repo, "1.0.0", store);
  EXPECT_EQ(pulled.exit_code, 1);
  EXPECT_NE(pulled.err.find("damaged"), std::string::npos) << pulled.err;
  EXPECT_EQ(CurrentVersion(store), "");
}

TEST_F(FerryctlTest, DamagedDeltaIsRejectedAndTheFileFetchedWhole) {
  const fs::path store = StoreWithFirstVersion();
  const fs::path repo = CopyOfRepository();
  const auto objects = ObjectsOf(repo, "1.1.0", "model.safetensors", true);
  ASSERT_FALSE(objects.empty());
  FlipBit(ObjectFile(repo, objects.front()), 200, 5);
  ProcessResult pulled = Pull(repo, "1.1.0", store);
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_NE(pulled.err.find("fetching the whole file instead"), std::string::npos) << pulled.err;
  EXPECT_EQ(ReadFile(store / "gpt-a" / "current" / "model.safetensors"),
            ReadFile(Input("1.1.0") / "model.safetensors"));
}

TEST_F(FerryctlTest, ManifestPathEscapingTheModelIsRefusedEvenWhenSigned) {
  const fs::path store = StoreWithFirstVersion();
  const fs::path repo = CopyOfRepository();
  const fs::path manifest = repo / ManifestPath("gpt-a", "1.1.0");
  std::string bytes = ReadFile(manifest);
  const std::string good = "\"path\": \"config.json\"";
  bytes.replace(bytes.find(good), good.size(), "\"path\": \"../../escaped.json\"");
  Result<SigningKey> key = SigningKey::Load(Keys() / "private.key");
  ASSERT_TRUE(key.ok());
  fs::permissions(manifest, fs::perms::owner_write, fs::perm_options::add);
  std::ofstream(manifest, std::ios::binary | std::ios::trunc) << bytes;
  std::ofstream(repo / SignaturePath("gpt-a", "1.1.0"), std::ios::binary | std::ios::trunc)
      << *key->Sign(bytes);

  ProcessResult pulled = Pull(repo, "1.1.0", store);
  EXPECT_EQ(pulled.exit_code, 1);
  EXPECT_NE(pulled.err.find("'..'"), std::string::npos) << pulled.err;
  EXPECT_FALSE(fs::exists(scratch_ / "escaped.json"));
  EXPECT_FALSE(fs::exists(store / "escaped.json"));
  ExpectStoreUnchanged(store);
}

TEST_F(FerryctlTest, PatchRefusesADeltaMadeForAnotherBase) {
  const fs::path delta = scratch_ / "d";
  ASSERT_EQ(Ferryctl({"diff", "--base", (Input("1.0.0") / "model.safetensors").string(), "--target",
                      (Input("1.1.0") / "model.safetensors").string(), "-o", delta.string()})
                .exit_code,
            0);
  ProcessResult patched =
      Ferryctl({"patch", "--base", (Input("1.1.0") / "model.safetensors").string(), "--delta",
                delta.string(), "-o", (scratch_ / "out").string()});
  EXPECT_EQ(patched.exit_code, 1);
  EXPECT_NE(patched.err.find("base"), std::string::npos) << patched.err;
  EXPECT_FALSE(fs::exists(scratch_ / "out"));
}

TEST_F(FerryctlTest, PullNeedsExactlyOneSource) {
  ProcessResult both =
      Ferryctl({"pull", "--repo", Repository().string(), "--bundle", "x.tar", "--model", "gpt-a",
                "--version", "1.1.0", "--store", (scratch_ / "s").string(), "--pubkey",
                (Keys() / "public.key").string()});
  EXPECT_EQ(both.exit_code, 2);
  ProcessResult neither =
      Ferryctl({"pull", "--model", "gpt-a", "--version", "1.1.0", "--store",
                (scratch_ / "s").string(), "--pubkey", (Keys() / "public.key").string()});
  EXPECT_EQ(neither.exit_code, 2);
  EXPECT_NE(neither.err.find("exactly one of --repo and --bundle"), std::string::npos)
      << neither.err;
}

TEST_F(FerryctlTest, PublishingAPublishedVersionAgainIsRefused) {
  ProcessResult again =
      Ferryctl({"publish", "--repo", Repository().string(), "--model", "gpt-a", "--version",
                "1.0.0", "--key", (Keys() / "private.key").string(), Input("1.0.0").string()});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already published"), std::string::npos) << again.err;
}

}  // namespace
}  // namespace ferry::testing
