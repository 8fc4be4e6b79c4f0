// ferryctl patch and diff never harm the file already at -o: whatever fails —
// a missing, truncated or mismatched delta, a kill in the middle — that file
// stays byte for byte as it was, and nothing is left beside it. On success
// it is replaced whole, keeping its permission bits; a symlink, FIFO or input
// named as -o is refused. Real files, the real
// gpt-a checkpoints and the real ferryctl binary.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "tests/ctl/ferryctl_fixture.h"
#include "tests/support/paths.h"

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;

// What a user keeps at the output path and must not lose.
const std::string kPrecious = "important bytes the user keeps here\n";

std::set<std::string> Names(const fs::path& folder) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

class PatchOutputTest : public FerryctlTest {
 protected:
  void SetUp() override {
    work_ = scratch_ / "work";
    fs::create_directories(work_);
    important_ = work_ / "important.bin";
    std::ofstream(important_, std::ios::binary) << kPrecious;
    ::chmod(important_.c_str(), 0640);
  }

  fs::path Model(const std::string& version) const { return Input(version) / "model.safetensors"; }

  // A real delta 1.0.0 -> 1.1.0, made outside the folder under test.
  fs::path MakeDelta() {
    const fs::path delta = scratch_ / "model.delta";
    ProcessResult made = Ferryctl({"diff", "--base", Model("1.0.0").string(), "--target",
                                   Model("1.1.0").string(), "-o", delta.string()});
    EXPECT_EQ(made.exit_code, 0) << made.err;
    return delta;
  }

  ProcessResult Patch(const fs::path& base, const fs::path& delta) {
    return Ferryctl(
        {"patch", "--base", base.string(), "--delta", delta.string(), "-o", important_.string()});
  }

  // The user's file as it was, and nothing else in its folder.
  void ExpectUntouched() {
    EXPECT_EQ(ReadFile(important_), kPrecious);
    struct stat info {};
    ASSERT_EQ(::stat(important_.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0640u);
    EXPECT_EQ(Names(work_), std::set<std::string>{"important.bin"}) << "left beside the output";
  }

  fs::path work_;
  fs::path important_;
};

TEST_F(PatchOutputTest, MissingDeltaLeavesTheOutputAlone) {
  ProcessResult patched = Patch(Model("1.0.0"), scratch_ / "missing.delta");
  EXPECT_EQ(patched.exit_code, 2) << "a delta that does not exist is a usage error";
  EXPECT_NE(
      patched.err.find("--delta: " + (scratch_ / "missing.delta").string() + " does not exist"),
      std::string::npos)
      << patched.err;
  ExpectUntouched();
}

TEST_F(PatchOutputTest, TruncatedDeltaLeavesTheOutputAlone) {
  const fs::path delta = MakeDelta();
  const std::string bytes = ReadFile(delta);
  ASSERT_GT(bytes.size(), 1000u);
  for (size_t keep : {bytes.size() / 2, bytes.size() - 1, size_t{40}}) {
    SCOPED_TRACE("kept " + std::to_string(keep) + " bytes");
    const fs::path truncated = scratch_ / "truncated.delta";
    std::ofstream(truncated, std::ios::binary | std::ios::trunc) << bytes.substr(0, keep);
    ProcessResult patched = Patch(Model("1.0.0"), truncated);
    EXPECT_EQ(patched.exit_code, 1);
    EXPECT_TRUE(patched.err.find("truncated") != std::string::npos ||
                patched.err.find("damaged") != std::string::npos)
        << patched.err;
    ExpectUntouched();
  }
}

TEST_F(PatchOutputTest, WrongBaseLeavesTheOutputAlone) {
  ProcessResult patched = Patch(Model("1.1.0"), MakeDelta());
  EXPECT_EQ(patched.exit_code, 1);
  EXPECT_NE(patched.err.find("base"), std::string::npos) << patched.err;
  ExpectUntouched();
}

TEST_F(PatchOutputTest, SuccessReplacesTheOutputWholeAndKeepsItsMode) {
  ProcessResult patched = Patch(Model("1.0.0"), MakeDelta());
  ASSERT_EQ(patched.exit_code, 0) << patched.err;
  EXPECT_EQ(ReadFile(important_), ReadFile(Model("1.1.0")));
  struct stat info {};
  ASSERT_EQ(::stat(important_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0640u) << "replacing a file changes its contents only";
  EXPECT_EQ(Names(work_), std::set<std::string>{"important.bin"});
}

// As nowhere in Ferry, a write never goes through a symlink: the link and the
// file it names are both left as they were.
TEST_F(PatchOutputTest, OutputThatIsASymlinkIsAUsageError) {
  const fs::path link = work_ / "link.bin";
  fs::create_symlink(important_, link);
  ProcessResult patched = Ferryctl({"patch", "--base", Model("1.0.0").string(), "--delta",
                                    MakeDelta().string(), "-o", link.string()});
  EXPECT_EQ(patched.exit_code, 2);
  EXPECT_NE(patched.err.find("-o: " + link.string() + " is a symlink"), std::string::npos)
      << patched.err;
  EXPECT_TRUE(fs::is_symlink(link));
  fs::remove(link);
  ExpectUntouched();
}

TEST_F(PatchOutputTest, OutputThatIsAnInputIsAUsageError) {
  const fs::path delta = MakeDelta();
  const fs::path base = work_ / "base.safetensors";
  fs::copy_file(Model("1.0.0"), base);
  const std::string before = ReadFile(base);
  ProcessResult patched =
      Ferryctl({"patch", "--base", base.string(), "--delta", delta.string(), "-o", base.string()});
  EXPECT_EQ(patched.exit_code, 2);
  EXPECT_NE(patched.err.find("is also an input"), std::string::npos) << patched.err;
  EXPECT_NE(patched.err.find("ferryctl patch --help"), std::string::npos) << patched.err;
  EXPECT_EQ(ReadFile(base), before);
}

TEST_F(PatchOutputTest, OutputThatIsNotARegularFileIsAUsageError) {
  const fs::path fifo = work_ / "out.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  // Killed after two minutes: writing to a FIFO would wait for a reader forever.
  ProcessResult patched =
      RunProcess({"timeout", "-s", "KILL", "120", BinaryPath("ferryctl"), "patch", "--base",
                  Model("1.0.0").string(), "--delta", MakeDelta().string(), "-o", fifo.string()});
  EXPECT_EQ(patched.exit_code, 2);
  EXPECT_NE(patched.err.find("-o: " + fifo.string() + " is a FIFO"), std::string::npos)
      << patched.err;
  struct stat info {};
  ASSERT_EQ(::lstat(fifo.c_str(), &info), 0);
  EXPECT_TRUE(S_ISFIFO(info.st_mode)) << "the FIFO is still there, not replaced";
}

// A diff killed in the middle (simulated with SIGKILL as soon as it starts
// writing: a new name in the folder, or the output changing) leaves the
// existing output as it was. zstd level 22 keeps the diff busy for seconds.
TEST_F(PatchOutputTest, KilledDiffLeavesTheOutputAlone) {
  const fs::path log = scratch_ / "diff.log";
  ChildProcess diff({BinaryPath("ferryctl"), "diff", "--base", Model("1.0.0").string(), "--target",
                     Model("1.1.0").string(), "--level", "22", "-o", important_.string()},
                    log.string());
  auto exited = [&] {
    std::ifstream stat("/proc/" + std::to_string(diff.pid()) + "/stat");
    std::string pid, name, state;
    stat >> pid >> name >> state;
    return !stat || state == "Z";
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  bool started_writing = false;
  while (!started_writing && !exited() && std::chrono::steady_clock::now() < deadline) {
    std::error_code error;
    started_writing =
        Names(work_).size() > 1 || fs::file_size(important_, error) != kPrecious.size();
    if (!started_writing) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  ASSERT_TRUE(started_writing) << "diff ended or stalled before it wrote anything: "
                               << ReadFile(log);
  diff.Kill(SIGKILL);
  EXPECT_EQ(diff.Wait(), 128 + SIGKILL) << "diff finished before the kill landed; "
                                           "the test needs a slower diff";
  EXPECT_EQ(ReadFile(important_), kPrecious);
}

TEST_F(PatchOutputTest, DiffFailureLeavesTheOutputAlone) {
  ProcessResult missing = Ferryctl({"diff", "--base", Model("1.0.0").string(), "--target",
                                    (scratch_ / "absent").string(), "-o", important_.string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("--target: "), std::string::npos) << missing.err;
  ExpectUntouched();
  ProcessResult is_input = Ferryctl({"diff", "--base", Model("1.0.0").string(), "--target",
                                     important_.string(), "-o", important_.string()});
  EXPECT_EQ(is_input.exit_code, 2);
  EXPECT_NE(is_input.err.find("is also an input"), std::string::npos) << is_input.err;
  ExpectUntouched();
}

}  // namespace
}  // namespace ferry::testing
