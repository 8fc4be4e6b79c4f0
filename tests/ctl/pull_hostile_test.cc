// `ferryctl pull` against a damaged node and a hostile (validly signing)
// publisher: each case is one of the defects adversarial testing found. The
// agent runs this code as root on every GPU node, so every size, link and
// byte it reads is treated as hostile, and a failure never damages the
// version in service.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "lib/artifact/objects.h"
#include "lib/artifact/repository_layout.h"
#include "lib/artifact/sign.h"
#include "lib/common/sha256.h"
#include "tests/ctl/ferryctl_fixture.h"
#include "tests/support/paths.h"
#include "tests/support/small_volume.h"

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;

void FlipByte(const fs::path& path, size_t at) {
  std::string contents = FerryctlTest::ReadFile(path);
  ASSERT_LT(at, contents.size());
  contents[at] = static_cast<char>(contents[at] ^ 0x10);
  // Stored versions are read-only; we are root, so write through the mode.
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
}

class PullHostileTest : public FerryctlTest {
 protected:
  fs::path Key() const { return Keys() / "public.key"; }

  ProcessResult Verify(const fs::path& store, const std::string& version = "") {
    std::vector<std::string> args = {"verify", "--store",  store.string(), "--model",
                                     "gpt-a",  "--pubkey", Key().string()};
    if (!version.empty()) args.insert(args.end(), {"--version", version});
    return Ferryctl(args);
  }

  // Rewrites the manifest of `version` in `repo` through `edit` and signs it
  // again with the publisher's key: what a compromised or careless publisher
  // can do.
  static void ResignManifest(const fs::path& repo, const std::string& version,
                             const std::function<void(nlohmann::ordered_json&)>& edit) {
    const fs::path manifest = repo / ManifestPath("gpt-a", version);
    nlohmann::ordered_json doc = nlohmann::ordered_json::parse(ReadFile(manifest));
    edit(doc);
    const std::string bytes = doc.dump(2) + "\n";
    Result<SigningKey> key = SigningKey::Load(Keys() / "private.key");
    ASSERT_TRUE(key.ok()) << key.error().message;
    fs::remove(manifest);
    std::ofstream(manifest, std::ios::binary) << bytes;
    const fs::path signature = repo / SignaturePath("gpt-a", version);
    fs::remove(signature);
    std::ofstream(signature, std::ios::binary) << *key->Sign(bytes);
  }

  // Publishes `version` into `repo` from the files in `input`.
  static void Publish(const fs::path& repo, const std::string& version, const fs::path& input,
                      const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"publish", "--repo", repo.string(),
                                     "--model", "gpt-a",  "--version",
                                     version,   "--key",  (Keys() / "private.key").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(input.string());
    ProcessResult published = Ferryctl(args);
    ASSERT_EQ(published.exit_code, 0) << published.err;
  }
};

// Defect 1: switching back to a version the store holds is a switch, not a
// download: it works with the repository gone, and it works again after a
// pull of it was killed.
TEST_F(PullHostileTest, PullOfAHeldVersionSwitchesToItWithoutFetching) {
  const fs::path store = StoreWithFirstVersion();
  ASSERT_EQ(Pull(Repository(), "1.1.0", store).exit_code, 0);
  const fs::path held = store / "gpt-a/versions/1.0.0/model.safetensors";
  struct stat before {};
  ASSERT_EQ(::stat(held.c_str(), &before), 0);

  // A repository that holds nothing: anything fetched would fail the pull.
  const fs::path empty = scratch_ / "empty-repository";
  fs::create_directories(empty);
  ProcessResult back = Pull(empty, "1.0.0", store);
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_NE(back.err.find("nothing fetched"), std::string::npos) << back.err;
  EXPECT_EQ(CurrentVersion(store), "1.0.0");
  struct stat after {};
  ASSERT_EQ(::stat(held.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_EQ(Verify(store).exit_code, 0);

  // And forward again, the same way.
  ProcessResult forward = Pull(empty, "1.1.0", store);
  ASSERT_EQ(forward.exit_code, 0) << forward.err;
  EXPECT_EQ(CurrentVersion(store), "1.1.0");

  // A pin that is not the stored manifest's is refused, and nothing changes.
  ProcessResult pinned =
      Pull(Repository(), "1.0.0", store, {"--digest", "sha256:" + std::string(64, 'e')});
  EXPECT_EQ(pinned.exit_code, 1);
  EXPECT_NE(pinned.err.find("is pinned"), std::string::npos) << pinned.err;
  EXPECT_EQ(CurrentVersion(store), "1.1.0");
}

// Defect 2: a signed manifest may declare any chunk size; memory must stay
// bounded by the chunk size the format allows, so such manifests are refused
// before anything is allocated (the old code died of std::bad_alloc, exit 134).
TEST_F(PullHostileTest, ChunksLargerThanTheChunkSizeAreRefusedBeforeAllocating) {
  struct Case {
    const char* name;
    std::function<void(nlohmann::ordered_json&)> edit;
    const char* expected;
  };
  const uint64_t tib = uint64_t{1} << 40;
  const std::vector<Case> cases = {
      {"a 1 TiB chunk",
       [&](nlohmann::ordered_json& doc) {
         for (auto& file : doc["files"]) {
           if (file["path"] != "config.json") continue;
           file["size"] = tib;
           file["chunks"][0]["size"] = tib;
         }
       },
       "larger than the manifest's chunkSize"},
      {"a 1 GiB chunk size",
       [&](nlohmann::ordered_json& doc) { doc["chunkSize"] = uint64_t{1} << 30; },
       "chunkSize: 1073741824 is outside 1..67108864"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path repo = CopyOfRepository();
    ResignManifest(repo, "1.0.0", c.edit);
    const fs::path store = scratch_ / ("store-" + std::to_string(&c - cases.data()));
    ProcessResult pulled = Pull(repo, "1.0.0", store);
    EXPECT_EQ(pulled.exit_code, 1) << pulled.err;
    EXPECT_NE(pulled.err.find(c.expected), std::string::npos) << pulled.err;
    EXPECT_EQ(CurrentVersion(store), "");
    fs::remove_all(repo);
  }
}

// Defect 3: a flipped byte in a held version's file must not be hard-linked
// into a new version on the word of the digest stored at activation: the
// linked copy is hashed, found damaged and the file fetched instead.
TEST_F(PullHostileTest, BitRotInAHeldVersionDoesNotTravelIntoTheNext) {
  const fs::path store = StoreWithFirstVersion();
  FlipByte(store / "gpt-a/versions/1.0.0/model.safetensors", 5'000'000);

  // 1.3.0: the weights of 1.0.0 and a new config.
  const fs::path repo = CopyOfRepository();
  const fs::path input = scratch_ / "1.3.0";
  fs::create_directories(input);
  fs::copy_file(Input("1.0.0") / "model.safetensors", input / "model.safetensors");
  fs::copy_file(Input("1.0.0") / "tokenizer.json", input / "tokenizer.json");
  std::ofstream(input / "config.json") << R"({"n_layer": 4, "note": "1.3.0"})";
  Publish(repo, "1.3.0", input);

  ProcessResult pulled = Pull(repo, "1.3.0", store);
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_NE(pulled.err.find("the copy of model.safetensors in version 1.0.0 has SHA-256"),
            std::string::npos)
      << pulled.err;
  EXPECT_NE(pulled.err.find("1 damaged held copies not used"), std::string::npos) << pulled.err;
  EXPECT_EQ(CurrentVersion(store), "1.3.0");
  ProcessResult verified = Verify(store);
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_EQ(ReadFile(store / "gpt-a/current/model.safetensors"),
            ReadFile(Input("1.0.0") / "model.safetensors"));
}

// Defect 5: the old fetch cache <store>/.ferry-cache was followed through a
// symlink: objects were written outside the store and a folder there was
// deleted. The cache now lives in the model's staging folder, made without
// following links; a planted link there is refused.
TEST_F(PullHostileTest, ACacheFolderPlantedAsASymlinkIsNeverFollowed) {
  const fs::path outside = scratch_ / "outside";
  fs::create_directories(outside / "gpt-a/1.1.0");
  std::ofstream(outside / "gpt-a/1.1.0/precious") << "keep me";
  const fs::path store = StoreWithFirstVersion();
  fs::create_symlink(outside, store / ".ferry-cache");

  ProcessResult pulled = Pull(Repository(), "1.1.0", store);
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_EQ(ReadFile(outside / "gpt-a/1.1.0/precious"), "keep me");
  size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::recursive_directory_iterator(outside)) ++entries;
  EXPECT_EQ(entries, 3u);  // gpt-a, 1.1.0, precious: nothing written there

  // The same planted inside the model's staging folder, beside what a killed
  // pull of 1.0.1 left, is refused by name (a cache with no staging folder
  // is garbage, and the sweep unlinks it).
  const fs::path outside2 = scratch_ / "outside2";
  fs::create_directories(outside2);
  fs::create_directories(store / "gpt-a/staging/1.0.1");
  fs::create_symlink(outside2, store / "gpt-a/staging/.1.0.1.cache");
  const fs::path repo = CopyOfRepository();
  Publish(repo, "1.0.1", Input("1.1.0"));
  ProcessResult refused = Pull(repo, "1.0.1", store);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find(".1.0.1.cache is not a folder (a symlink?)"), std::string::npos)
      << refused.err;
  EXPECT_TRUE(fs::is_empty(outside2));
  EXPECT_EQ(CurrentVersion(store), "1.1.0");
}

// Defect 7: a delta's header says how large the rebuilt file will be. A signed
// manifest whose delta rebuilds 200 MiB for a file of 10 MB filled a 64 MiB
// volume before anything compared the two; now the header is checked against
// the manifest before a byte is written, and the file is fetched whole.
TEST_F(PullHostileTest, ADeltaDeclaringAHugeTargetIsRefusedBeforeWriting) {
  SmallVolume volume(scratch_ / "volume", "64m");
  ASSERT_TRUE(volume.mounted()) << "mounting a tmpfs needs root (CAP_SYS_ADMIN); CI runs as root";
  const fs::path store = volume.path() / "store";
  ASSERT_EQ(Pull(Repository(), "1.0.0", store).exit_code, 0);

  // A real delta, from 1.0.0's weights to 200 MiB of zeros: a few KiB that
  // decode to far more than the volume holds.
  const fs::path huge = scratch_ / "huge.bin";
  { std::ofstream create(huge); }
  fs::resize_file(huge, 200 << 20);
  const fs::path delta = scratch_ / "huge.delta";
  ProcessResult made = Ferryctl({"diff", "--base", (Input("1.0.0") / "model.safetensors").string(),
                                 "--target", huge.string(), "-o", delta.string()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  ASSERT_LT(fs::file_size(delta), 1u << 20);

  const fs::path repo = CopyOfRepository();
  Result<Blob> blob = StoreBlob(repo, delta, 8 << 20, 3);
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  ResignManifest(repo, "1.1.0", [&](nlohmann::ordered_json& doc) {
    for (auto& file : doc["deltas"][0]["files"]) {
      if (file["path"] != "model.safetensors") continue;
      file["size"] = blob->size;
      file["sha256"] = "sha256:" + ToHex(blob->sha256);
      file["chunks"] = nlohmann::ordered_json::array();
      for (const ChunkRef& chunk : blob->chunks) {
        file["chunks"].push_back({{"sha256", "sha256:" + ToHex(chunk.sha256)},
                                  {"size", chunk.size},
                                  {"stored", chunk.stored_size}});
      }
    }
  });

  ProcessResult pulled = Pull(repo, "1.1.0", store);
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_NE(pulled.err.find("it declares a target of 209715200 bytes, but 10197776 are expected"),
            std::string::npos)
      << pulled.err;
  EXPECT_NE(pulled.err.find("fetching the whole file instead"), std::string::npos) << pulled.err;
  EXPECT_EQ(CurrentVersion(store), "1.1.0");
  EXPECT_EQ(Verify(store).exit_code, 0);
}

// Defect 11: a damaged current version is repaired by pulling it again (the
// damaged file is fetched, the intact ones kept), where the old code said
// "already current" and left it damaged; an intact one is checked and left.
TEST_F(PullHostileTest, PullingADamagedCurrentVersionRepairsIt) {
  const fs::path store = StoreWithFirstVersion();
  ProcessResult intact = Pull(Repository(), "1.0.0", store);
  ASSERT_EQ(intact.exit_code, 0) << intact.err;
  EXPECT_NE(intact.out.find("is already current"), std::string::npos) << intact.out;

  const fs::path config = store / "gpt-a/versions/1.0.0/config.json";
  struct stat kept {};
  ASSERT_EQ(::stat((store / "gpt-a/versions/1.0.0/model.safetensors").c_str(), &kept), 0);
  FlipByte(store / "gpt-a/versions/1.0.0/tokenizer.json", 10);
  ASSERT_EQ(Verify(store).exit_code, 1);

  ProcessResult repaired = Pull(Repository(), "1.0.0", store);
  ASSERT_EQ(repaired.exit_code, 0) << repaired.err;
  EXPECT_NE(repaired.err.find("repairing it"), std::string::npos) << repaired.err;
  EXPECT_NE(repaired.err.find("is now current (repaired)"), std::string::npos) << repaired.err;
  EXPECT_EQ(CurrentVersion(store), "1.0.0");
  ProcessResult verified = Verify(store);
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
  // The intact weights were linked, not fetched again.
  struct stat now {};
  ASSERT_EQ(::stat((store / "gpt-a/versions/1.0.0/model.safetensors").c_str(), &now), 0);
  EXPECT_EQ(now.st_ino, kept.st_ino);
  EXPECT_FALSE(fs::exists(store / "gpt-a/trash"));
  EXPECT_FALSE(fs::exists(store / "gpt-a/staging/1.0.0"));
}

// Defect 11: damage in one place no longer blocks readers elsewhere. verify
// of the intact current version passes though another version's files.json
// is gone; ls lists every model though one has a damaged state.json, names
// the damage and exits 1.
TEST_F(PullHostileTest, DamageIsReportedWhereItIsAndBlocksNothingElse) {
  const fs::path store = StoreWithFirstVersion();
  ASSERT_EQ(Pull(Repository(), "1.1.0", store).exit_code, 0);
  fs::remove(store / "gpt-a/meta/1.0.0/files.json");
  ProcessResult verified = Verify(store);
  EXPECT_EQ(verified.exit_code, 0) << verified.err;

  // A second model, whose state.json is garbage.
  ASSERT_EQ(
      Ferryctl({"publish", "--repo", (scratch_ / "repo2").string(), "--model", "other", "--version",
                "1.0.0", "--key", (Keys() / "private.key").string(), Input("1.0.0").string()})
          .exit_code,
      0);
  ASSERT_EQ(Ferryctl({"pull", "--repo", (scratch_ / "repo2").string(), "--model", "other",
                      "--version", "1.0.0", "--store", store.string(), "--pubkey", Key().string()})
                .exit_code,
            0);
  std::ofstream(store / "other/state.json", std::ios::trunc) << "{not json";
  ProcessResult listed = Ferryctl({"ls", "--store", store.string(), "--json"});
  EXPECT_EQ(listed.exit_code, 1) << listed.err;
  const nlohmann::json models = nlohmann::json::parse(listed.out);
  ASSERT_EQ(models.size(), 2u) << listed.out;
  EXPECT_EQ(models[0]["model"], "gpt-a");
  EXPECT_EQ(models[0]["current"], "1.1.0");
  EXPECT_NE(models[0]["versions"][1]["damage"].get<std::string>().find("files.json"),
            std::string::npos)
      << listed.out;
  EXPECT_EQ(models[1]["model"], "other");
  EXPECT_EQ(models[1]["current"], "1.0.0");
  EXPECT_NE(listed.err.find("other: " + (store / "other/state.json").string() + " is damaged"),
            std::string::npos)
      << listed.err;
  EXPECT_EQ(Ferryctl({"verify", "--store", store.string(), "--model", "other"}).exit_code, 0);
}

// Defect 12 (bundle): a bundle whose delta object is damaged must say so, not
// that it "was made for another version" (what the fallback to full objects,
// which a bundle does not carry, used to report).
TEST_F(PullHostileTest, ABundleWithADamagedDeltaReportsTheDamage) {
  const fs::path store = StoreWithFirstVersion();
  const fs::path bundle = scratch_ / "update.tar";
  ASSERT_EQ(Ferryctl({"bundle", "--repo", Repository().string(), "--model", "gpt-a", "--from",
                      "1.0.0", "--to", "1.1.0", "-o", bundle.string()})
                .exit_code,
            0);
  // Damage the largest delta object inside the tar: find its bytes there.
  auto manifest = nlohmann::json::parse(ReadFile(Repository() / ManifestPath("gpt-a", "1.1.0")));
  std::string object_hex;
  for (const auto& file : manifest["deltas"][0]["files"]) {
    if (file["path"] == "model.safetensors") {
      object_hex = file["chunks"][0]["sha256"].get<std::string>().substr(7);
    }
  }
  ASSERT_FALSE(object_hex.empty());
  const std::string object =
      ReadFile(Repository() / "objects" / object_hex.substr(0, 2) / (object_hex + ".zst"));
  std::string tar = ReadFile(bundle);
  const size_t at = tar.find(object);
  ASSERT_NE(at, std::string::npos);
  tar[at + object.size() / 2] = static_cast<char>(tar[at + object.size() / 2] ^ 0x55);
  std::ofstream(bundle, std::ios::binary | std::ios::trunc) << tar;

  ProcessResult pulled =
      Ferryctl({"pull", "--bundle", bundle.string(), "--model", "gpt-a", "--version", "1.1.0",
                "--store", store.string(), "--pubkey", Key().string()});
  EXPECT_EQ(pulled.exit_code, 1);
  EXPECT_NE(pulled.err.find("the delta from 1.0.0"), std::string::npos) << pulled.err;
  EXPECT_NE(pulled.err.find("damaged"), std::string::npos) << pulled.err;
  EXPECT_NE(pulled.err.find("has no full objects for the file to fall back on"), std::string::npos)
      << pulled.err;
  EXPECT_EQ(CurrentVersion(store), "1.0.0");
  EXPECT_EQ(Verify(store).exit_code, 0);
}

}  // namespace
}  // namespace ferry::testing
