// ferryctl at the edges of its command line, run as a user would run it: a
// value that could never work is a usage error (exit 2, "ferryctl <command>:
// <flag>: why" and the --help hint) found before anything is read or created;
// commands that inspect a store only read; a failed bundle leaves nothing; a
// FIFO given for a file is refused at once instead of waited on; the
// low-speed flags reach the fetcher.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "lib/artifact/repository_layout.h"
#include "tests/ctl/ferryctl_fixture.h"
#include "tests/support/paths.h"

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;

// A command line that could never work: exit 2, the command named, the flag
// and `fragment` in the message, the hint to --help, nothing on stdout.
void ExpectUsageError(const ProcessResult& result, const std::string& command,
                      const std::string& fragment) {
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("ferryctl " + command + ": "), std::string::npos) << result.err;
  EXPECT_NE(result.err.find(fragment), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("Run 'ferryctl " + command + " --help' for usage."), std::string::npos)
      << result.err;
  EXPECT_TRUE(result.out.empty()) << result.out;
}

class CliEdgesTest : public FerryctlTest {
 protected:
  std::string PublicKey() const { return (Keys() / "public.key").string(); }
  std::string PrivateKey() const { return (Keys() / "private.key").string(); }

  // A pull into a store that does not exist yet, with `extra` flags.
  ProcessResult PullInto(const fs::path& store, const std::string& version,
                         const std::vector<std::string>& extra) {
    return Pull(Repository(), version, store, extra);
  }

  // `ferryctl args...`, killed if it runs for two minutes: a command that
  // blocks (on a FIFO) fails the test instead of hanging it.
  static ProcessResult FerryctlWithin2Minutes(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"timeout", "-s", "KILL", "120", BinaryPath("ferryctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  }
};

// A repository server on 127.0.0.1 that sends every body one byte per 100 ms:
// a simulated trickling link, which a per-read timeout never trips.
class TricklingServer {
 public:
  explicit TricklingServer(fs::path root) : root_(std::move(root)) {
    server_.Get(R"(/(.*))", [this](const httplib::Request& request, httplib::Response& response) {
      const fs::path file = root_ / std::string(request.matches[1]);
      if (!fs::is_regular_file(file)) {
        response.status = 404;
        return;
      }
      auto contents = std::make_shared<std::string>(FerryctlTest::ReadFile(file));
      response.set_content_provider(
          contents->size(), "application/octet-stream",
          [this, contents](size_t offset, size_t, httplib::DataSink& sink) {
            if (stopping_) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            return sink.write(contents->data() + offset, 1);
          });
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~TricklingServer() {
    stopping_ = true;
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  fs::path root_;
  std::atomic<bool> stopping_ = false;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(CliEdgesTest, LowSpeedFlagsReachTheFetcher) {
  TricklingServer server(Repository());
  const fs::path store = scratch_ / "store";
  // 10 bytes/s against a limit of 1 MiB/s over 1 s: cut after about a second,
  // and the verdict names the limit and the window given on the command line
  // (the defaults are 1024 bytes/s and more than 1 s).
  ProcessResult pulled = FerryctlWithin2Minutes(
      {"pull", "--repo", server.url(), "--model", "gpt-a", "--version", "1.0.0", "--store",
       store.string(), "--pubkey", PublicKey(), "--plain-progress", "--retries", "1",
       "--low-speed-limit", "1M", "--low-speed-time", "1"});
  EXPECT_EQ(pulled.exit_code, 1) << pulled.err;
  EXPECT_NE(pulled.err.find("below the low-speed limit of 1048576 bytes/s"), std::string::npos)
      << pulled.err;
  EXPECT_NE(pulled.err.find("over the last 1 s"), std::string::npos) << pulled.err;
}

TEST_F(CliEdgesTest, InspectingAStoreThatDoesNotExistCreatesNothing) {
  const fs::path typo = scratch_ / "stroe";
  ExpectUsageError(Ferryctl({"verify", "--store", typo.string(), "--model", "gpt-a"}), "verify",
                   "--store: " + typo.string() + " does not exist");
  ExpectUsageError(Ferryctl({"ls", "--store", typo.string()}), "ls", "does not exist");
  ExpectUsageError(Ferryctl({"rollback", "--store", typo.string(), "--model", "gpt-a"}), "rollback",
                   "does not exist");
  EXPECT_FALSE(fs::exists(typo)) << "verify, ls and rollback must not create a store";

  // A folder that exists but holds no store: reported, and left empty.
  const fs::path empty = scratch_ / "empty";
  fs::create_directories(empty);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"verify", "--store", empty.string(), "--model", "gpt-a"},
        std::vector<std::string>{"ls", "--store", empty.string()},
        std::vector<std::string>{"rollback", "--store", empty.string(), "--model", "gpt-a"}}) {
    ProcessResult result = Ferryctl(args);
    EXPECT_EQ(result.exit_code, 1) << args[0] << ": " << result.err;
    EXPECT_NE(result.err.find("no store at " + empty.string()), std::string::npos) << result.err;
  }
  EXPECT_TRUE(fs::is_empty(empty)) << "no marker may be written by a reader";
}

TEST_F(CliEdgesTest, EmptyOrMalformedDigestIsAUsageError) {
  const fs::path store = scratch_ / "store";
  ExpectUsageError(PullInto(store, "1.1.0", {"--digest", ""}), "pull",
                   "--digest: the pin is empty");
  ProcessResult no_value = PullInto(store, "1.1.0", {"--digest="});  // CLI11 refuses this one
  EXPECT_EQ(no_value.exit_code, 2) << no_value.err;
  EXPECT_NE(no_value.err.find("--digest"), std::string::npos) << no_value.err;
  ExpectUsageError(PullInto(store, "1.1.0", {"--digest", "sha256:abc"}), "pull", "--digest: ");
  ExpectUsageError(PullInto(store, "1.1.0", {"--digest", std::string(64, 'a')}), "pull",
                   "sha256:<64 hex>");
  EXPECT_FALSE(fs::exists(store)) << "nothing may be created before the flags are checked";
}

TEST_F(CliEdgesTest, NegativeOrMalformedRatesAreUsageErrors) {
  const fs::path store = scratch_ / "store";
  // From an empty repository folder, so that a value wrongly accepted fails
  // the test at once instead of running a pull at 16 bytes/s.
  const fs::path empty_repo = scratch_ / "empty-repo";
  fs::create_directories(empty_repo);
  auto pull_with = [&](const std::vector<std::string>& extra) {
    return Pull(empty_repo, "1.0.0", store, extra);
  };
  ExpectUsageError(pull_with({"--limit-rate", "-5"}), "pull",
                   "--limit-rate: '-5' is not a size: it is negative");
  for (const char* bad :
       {"0x10", "5X", "1.5M", "", " 5", "99999999999999999999", "18446744073709551615K"}) {
    ExpectUsageError(pull_with({"--limit-rate", bad}), "pull",
                     std::string("--limit-rate: '") + bad + "' is not a size");
  }
  ExpectUsageError(pull_with({"--low-speed-limit", "-1"}), "pull",
                   "--low-speed-limit: '-1' is not a size: it is negative");
  for (const char* bad : {"0", "-3", "x"}) {
    ProcessResult result = pull_with({"--low-speed-time", bad});
    EXPECT_EQ(result.exit_code, 2) << bad << ": " << result.err;
    EXPECT_NE(result.err.find("--low-speed-time"), std::string::npos) << result.err;
  }
  EXPECT_FALSE(fs::exists(store));
}

TEST_F(CliEdgesTest, SizesWithUnitsAreAcceptedAndThePullWorks) {
  const fs::path store = scratch_ / "store";
  ProcessResult pulled =
      PullInto(store, "1.0.0",
               {"--limit-rate", "512M", "--low-speed-limit", "1k", "--low-speed-time", "120"});
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_EQ(CurrentVersion(store), "1.0.0");
  ProcessResult disabled = PullInto(store, "1.1.0", {"--low-speed-limit", "0"});
  ASSERT_EQ(disabled.exit_code, 0) << disabled.err;
  EXPECT_EQ(CurrentVersion(store), "1.1.0");
}

TEST_F(CliEdgesTest, VersionsMustBeSemVerInEveryCommand) {
  const fs::path store = scratch_ / "store";
  for (const std::string bad : {"1.0", "v1", "latest", "1.0.0.0", "01.0.0"}) {
    SCOPED_TRACE(bad);
    ExpectUsageError(PullInto(store, bad, {}), "pull",
                     "--version: version '" + bad + "' is not a SemVer 2.0.0 version");
    ExpectUsageError(
        Ferryctl({"publish", "--repo", (scratch_ / "repo").string(), "--model", "gpt-a",
                  "--version", bad, "--key", PrivateKey(), Input("1.0.0").string()}),
        "publish", "--version: version '" + bad + "' is not a SemVer");
    ExpectUsageError(Ferryctl({"publish", "--repo", (scratch_ / "repo").string(), "--model",
                               "gpt-a", "--version", "3.0.0", "--key", PrivateKey(), "--delta-from",
                               bad, Input("1.0.0").string()}),
                     "publish", "--delta-from: version '" + bad + "'");
    ExpectUsageError(
        Ferryctl({"bundle", "--repo", Repository().string(), "--model", "gpt-a", "--from", bad,
                  "--to", "1.1.0", "-o", (scratch_ / "b.tar").string()}),
        "bundle", "--from: version '" + bad + "'");
    ExpectUsageError(
        Ferryctl({"bundle", "--repo", Repository().string(), "--model", "gpt-a", "--from", "1.0.0",
                  "--to", bad, "-o", (scratch_ / "b.tar").string()}),
        "bundle", "--to: version '" + bad + "'");
  }
  const fs::path held = StoreWithFirstVersion();
  ExpectUsageError(
      Ferryctl({"verify", "--store", held.string(), "--model", "gpt-a", "--version", "v1"}),
      "verify", "--version: version 'v1' is not a SemVer 2.0.0 version: drop the leading 'v'");
  EXPECT_FALSE(fs::exists(scratch_ / "repo")) << "publish created its repository before checking";
  EXPECT_FALSE(fs::exists(scratch_ / "b.tar.partial"));
}

TEST_F(CliEdgesTest, BadValuesAreUsageErrorsInEveryCommand) {
  const fs::path store = StoreWithFirstVersion();
  const std::string out = (scratch_ / "out").string();
  ExpectUsageError(
      Ferryctl({"pull", "--repo", Repository().string(), "--model", "GPT-A", "--version", "1.1.0",
                "--store", (scratch_ / "s").string(), "--pubkey", PublicKey()}),
      "pull", "--model: model name 'GPT-A' is not valid");
  ExpectUsageError(Ferryctl({"verify", "--store", store.string(), "--model", "../gpt-a"}), "verify",
                   "--model: model name '../gpt-a'");
  ExpectUsageError(Ferryctl({"rollback", "--store", store.string(), "--model", "Gpt"}), "rollback",
                   "--model: ");
  ExpectUsageError(Ferryctl({"bundle", "--repo", Repository().string(), "--model", "a/b", "--from",
                             "1.0.0", "--to", "1.1.0", "-o", out}),
                   "bundle", "--model: ");
  ExpectUsageError(Ferryctl({"bundle", "--repo", Repository().string(), "--model", "gpt-a",
                             "--from", "1.1.0", "--to", "1.1.0", "-o", out}),
                   "bundle", "--from and --to are both 1.1.0");
  ExpectUsageError(Ferryctl({"bundle", "--repo", (scratch_ / "norepo").string(), "--model", "gpt-a",
                             "--from", "1.0.0", "--to", "1.1.0", "-o", out}),
                   "bundle", "--repo: ");
  ExpectUsageError(
      Ferryctl({"publish", "--repo", (scratch_ / "r").string(), "--model", "gpt-a", "--version",
                "3.0.0", "--key", PrivateKey(), "--chunk-size", "-1", Input("1.0.0").string()}),
      "publish", "--chunk-size: '-1' is not a size");
  ExpectUsageError(
      Ferryctl({"publish", "--repo", (scratch_ / "r").string(), "--model", "gpt-a", "--version",
                "3.0.0", "--key", PrivateKey(), "--chunk-size", "1G", Input("1.0.0").string()}),
      "publish", "--chunk-size: 1G is outside 4K to 64M");
  ExpectUsageError(
      Ferryctl({"publish", "--repo", (scratch_ / "r").string(), "--model", "gpt-a", "--version",
                "3.0.0", "--key", (scratch_ / "nokey").string(), Input("1.0.0").string()}),
      "publish", "--key: ");
  ExpectUsageError(
      Ferryctl({"publish", "--repo", (scratch_ / "r").string(), "--model", "gpt-a", "--version",
                "3.0.0", "--key", PrivateKey(), (scratch_ / "no-such-model").string()}),
      "publish", "does not exist");
  EXPECT_FALSE(fs::exists(scratch_ / "r")) << "publish created its repository before checking";
  ExpectUsageError(
      Ferryctl({"pull", "--repo", Repository().string(), "--model", "gpt-a", "--version", "1.1.0",
                "--store", (scratch_ / "s").string(), "--pubkey", (scratch_ / "nokey").string()}),
      "pull", "--pubkey: ");
  ExpectUsageError(
      Ferryctl({"pull", "--repo", (scratch_ / "norepo").string(), "--model", "gpt-a", "--version",
                "1.1.0", "--store", (scratch_ / "s").string(), "--pubkey", PublicKey()}),
      "pull", "--repo: ");
  ExpectUsageError(PullInto(Keys() / "public.key", "1.1.0", {}), "pull",
                   "--store: " + (Keys() / "public.key").string() + " is a regular file");
  EXPECT_FALSE(fs::exists(scratch_ / "s"));
  ExpectUsageError(Ferryctl({"keygen", "--out", PublicKey()}), "keygen", "--out: ");

  // Flags missing or in conflict are usage errors too (CLI11 reports them).
  ProcessResult missing = Ferryctl({"pull", "--repo", Repository().string(), "--model", "gpt-a"});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_NE(missing.err.find("--version"), std::string::npos) << missing.err;
  ProcessResult conflict = Pull(Repository(), "1.1.0", scratch_ / "s", {"--bundle", out});
  EXPECT_EQ(conflict.exit_code, 2) << conflict.err;

  // Failures once work has started stay exit 1.
  ProcessResult unpublished = PullInto(scratch_ / "s", "9.9.9", {});
  EXPECT_EQ(unpublished.exit_code, 1) << unpublished.err;
}

TEST_F(CliEdgesTest, FailedBundleLeavesNothingBehind) {
  const fs::path repo = CopyOfRepository();
  // Without its objects the repository still has the manifest and signature:
  // the failure comes half-way through writing the archive.
  fs::remove_all(repo / "objects");
  fs::create_directories(repo / "objects");
  const fs::path out = scratch_ / "update.tar";
  ProcessResult made = Ferryctl({"bundle", "--repo", repo.string(), "--model", "gpt-a", "--from",
                                 "1.0.0", "--to", "1.1.0", "-o", out.string()});
  EXPECT_EQ(made.exit_code, 1) << made.err;
  EXPECT_NE(made.err.find("objects/"), std::string::npos) << made.err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(fs::path(out.string() + ".partial"))) << "a failed bundle left it";

  // A file already named OUT.partial is not ours: refused, never truncated.
  std::ofstream(out.string() + ".partial") << "someone else's";
  ProcessResult clashing = Ferryctl({"bundle", "--repo", Repository().string(), "--model", "gpt-a",
                                     "--from", "1.0.0", "--to", "1.1.0", "-o", out.string()});
  EXPECT_EQ(clashing.exit_code, 1) << clashing.err;
  EXPECT_NE(clashing.err.find(".partial exists"), std::string::npos) << clashing.err;
  EXPECT_EQ(ReadFile(out.string() + ".partial"), "someone else's");
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(CliEdgesTest, FifoGivenForAFileIsRefusedAtOnce) {
  const fs::path fifo = scratch_ / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  const fs::path model = Input("1.0.0") / "model.safetensors";
  const std::string fragment = fifo.string() + " is a FIFO, not a regular file";

  ProcessResult pulled = FerryctlWithin2Minutes(
      {"pull", "--bundle", fifo.string(), "--model", "gpt-a", "--version", "1.1.0", "--store",
       (scratch_ / "store").string(), "--pubkey", PublicKey()});
  ExpectUsageError(pulled, "pull", "--bundle: " + fragment);
  EXPECT_FALSE(fs::exists(scratch_ / "store"));

  ExpectUsageError(FerryctlWithin2Minutes({"diff", "--base", fifo.string(), "--target",
                                           model.string(), "-o", (scratch_ / "d").string()}),
                   "diff", "--base: " + fragment);
  ExpectUsageError(FerryctlWithin2Minutes({"diff", "--base", model.string(), "--target",
                                           fifo.string(), "-o", (scratch_ / "d").string()}),
                   "diff", "--target: " + fragment);
  ExpectUsageError(FerryctlWithin2Minutes({"patch", "--base", model.string(), "--delta",
                                           fifo.string(), "-o", (scratch_ / "p").string()}),
                   "patch", "--delta: " + fragment);
  ExpectUsageError(
      FerryctlWithin2Minutes({"pull", "--repo", Repository().string(), "--model", "gpt-a",
                              "--version", "1.0.0", "--store", (scratch_ / "store").string(),
                              "--pubkey", fifo.string()}),
      "pull", "--pubkey: " + fragment);
  ExpectUsageError(FerryctlWithin2Minutes({"publish", "--repo", (scratch_ / "r").string(),
                                           "--model", "gpt-a", "--version", "3.0.0", "--key",
                                           fifo.string(), Input("1.0.0").string()}),
                   "publish", "--key: " + fragment);
  EXPECT_FALSE(fs::exists(scratch_ / "d"));
  EXPECT_FALSE(fs::exists(scratch_ / "p"));
}

}  // namespace
}  // namespace ferry::testing
