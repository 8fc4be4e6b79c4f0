// ferry-pull-bench: the tree maker and the timer of bench/pull/run.
//   tree --files N --out DIR [--next]
//       writes a model-shaped tree of N small files (1-6 KiB: configs and a
//       tokenizer at the top, then shards/layer-LLL/group-GG/tensor-TTT.bin);
//       --next writes the next version of the same tree: about 1% of the files
//       (and config.json) rewritten, every other file byte for byte the same
//       with the same mtime, so that rsync's quick check and --link-dest treat
//       it as unchanged, as Ferry's hard links do
//   time --cap SECONDS --log FILE -- COMMAND...
//       runs COMMAND in a process group of its own, its output to FILE, and
//       kills the group at the cap, so that a slow case is reported instead of
//       holding the run
// Each prints one line of key=value pairs for the script to read. The same N
// always gives the same trees: contents come from a hash of the file's index.
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "lib/common/cli.h"
#include "lib/common/file.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// 2026-01-01T00:00:00Z for the first version's files, a day later for the files
// the next version rewrites: fixed, so two runs make identical trees.
constexpr int64_t kFirstMtime = 1767225600;
constexpr int64_t kNextMtime = kFirstMtime + 86400;
constexpr uint64_t kChangedOneIn = 100;

uint64_t Mix(uint64_t x) {  // SplitMix64's finaliser: a cheap, well-spread hash
  x += 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

// The small files a model repository has beside its weights.
constexpr const char* kTopFiles[] = {
    "config.json",
    "generation_config.json",
    "README.md",
    "tokenizer/tokenizer.json",
    "tokenizer/tokenizer_config.json",
    "tokenizer/special_tokens_map.json",
    "tokenizer/vocab.json",
    "tokenizer/merges.txt",
    "adapters/sql/adapter_config.json",
    "adapters/sql/README.md",
};
constexpr uint64_t kTopCount = std::size(kTopFiles);
constexpr uint64_t kTensorsPerGroup = 40;
constexpr uint64_t kGroupsPerLayer = 25;

std::string PathOf(uint64_t index) {
  if (index < kTopCount) return kTopFiles[index];
  const uint64_t k = index - kTopCount;
  char name[64];
  std::snprintf(name, sizeof name, "shards/layer-%03llu/group-%02llu/tensor-%03llu.bin",
                static_cast<unsigned long long>(k / (kTensorsPerGroup * kGroupsPerLayer)),
                static_cast<unsigned long long>(k / kTensorsPerGroup % kGroupsPerLayer),
                static_cast<unsigned long long>(k % kTensorsPerGroup));
  return name;
}

bool ChangedInNext(uint64_t index) {
  return index == 0 || Mix(index ^ 0x5eed) % kChangedOneIn == 0;
}

// Weights look like bf16 around zero (a random low byte, a high byte from a
// few exponents), so they compress a little, as real ones do; text files are
// JSON-ish lines. `generation` tells a file's versions apart.
std::string ContentOf(uint64_t index, uint64_t generation) {
  uint64_t state = Mix(index * 2 + generation);
  const auto next = [&state] { return state = Mix(state); };
  const size_t size = 1024 + next() % (5 * 1024);
  std::string bytes;
  bytes.reserve(size + 64);
  if (index >= kTopCount) {
    while (bytes.size() < size) {
      const uint64_t r = next();
      for (int k = 0; k < 4 && bytes.size() < size; ++k) {
        const uint16_t lane = static_cast<uint16_t>(r >> (16 * k));
        bytes.push_back(static_cast<char>(lane & 0xff));
        bytes.push_back(static_cast<char>((0x3c + (lane >> 8 & 3)) | (lane & 0x8000 ? 0x80 : 0)));
      }
    }
    return bytes;
  }
  bytes = "{\n";
  while (bytes.size() < size) {
    bytes += "  \"token_" + std::to_string(next() % 50000) + "\": " + std::to_string(next() % 997) +
             ",\n";
  }
  return bytes + "  \"generation\": " + std::to_string(generation) + "\n}\n";
}

Status WriteTree(uint64_t files, const fs::path& out, bool next) {
  uint64_t bytes = 0, changed = 0;
  for (uint64_t index = 0; index < files; ++index) {
    const bool rewritten = next && ChangedInNext(index);
    const std::string content = ContentOf(index, rewritten ? 1 : 0);
    const fs::path path = out / PathOf(index);
    std::error_code error;
    fs::create_directories(path.parent_path(), error);
    if (error)
      return MakeError(ErrorCode::kIo,
                       "mkdir " + path.parent_path().string() + ": " + error.message());
    Result<UniqueFd> fd = CreateForWrite(path);
    if (!fd) return fd.error();
    if (Status s = WriteAll(fd->get(), content, path); !s) return s;
    const timespec when{rewritten ? kNextMtime : kFirstMtime, 0};
    const timespec times[2] = {when, when};
    if (::futimens(fd->get(), times) != 0) return ErrnoError("futimens", path, errno);
    bytes += content.size();
    changed += rewritten;
  }
  std::cout << "files=" << files << " bytes=" << bytes << " changed=" << changed << "\n";
  return OkStatus();
}

// Runs `command` with stdin from /dev/null and stdout and stderr to `log`;
// prints status=ok|failed|over with wall, CPU (user + system, the process and
// the children it waited for) and peak RSS from wait4.
Status TimeCapped(const std::vector<std::string>& command, double cap_seconds,
                  const fs::path& log) {
  Result<UniqueFd> log_fd = CreateForWrite(log);
  if (!log_fd) return log_fd.error();
  UniqueFd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null_fd.valid()) return ErrnoError("open", "/dev/null", errno);
  std::vector<std::string> args = command;  // execvp wants mutable strings
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const Clock::time_point start = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) return ErrnoError("fork for", command[0], errno);
  if (pid == 0) {  // only async-signal-safe calls until exec
    ::setpgid(0, 0);
    ::dup2(null_fd.get(), 0);
    ::dup2(log_fd->get(), 1);
    ::dup2(log_fd->get(), 2);
    ::execvp(argv[0], argv.data());
    static constexpr char kMessage[] = "ferry-pull-bench: cannot run the command\n";
    (void)!::write(2, kMessage, sizeof kMessage - 1);
    ::_exit(127);
  }
  ::setpgid(pid,
            pid);  // also here, so the group exists before any kill (EACCES after exec is fine)
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  bool over = false;
  if (pidfd.valid()) {
    const auto deadline = start + std::chrono::duration<double>(cap_seconds);
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        over = true;
        break;
      }
      pollfd wait_for{pidfd.get(), POLLIN, 0};
      const int ready =
          ::poll(&wait_for, 1, static_cast<int>(std::min<int64_t>(left.count(), 60000)));
      if (ready > 0) break;
      if (ready < 0 && errno != EINTR) return ErrnoError("poll the pidfd of", command[0], errno);
    }
  }  // without pidfd_open (Linux < 5.3) the cap is not enforced: wait4 below just waits
  if (over) ::kill(-pid, SIGKILL);
  int status = 0;
  rusage usage{};
  while (::wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) return ErrnoError("wait for", command[0], errno);
  }
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  if (!over) ::kill(-pid, SIGKILL);  // stragglers the command left behind, if any
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  const char* outcome = over                                            ? "over"
                        : WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "ok"
                                                                        : "failed";
  std::printf("status=%s exit=%d signal=%d wall=%.3f cpu=%.3f max_rss_kib=%ld\n", outcome,
              WIFEXITED(status) ? WEXITSTATUS(status) : -1,
              WIFSIGNALED(status) ? WTERMSIG(status) : 0, wall,
              seconds(usage.ru_utime) + seconds(usage.ru_stime), usage.ru_maxrss);
  return OkStatus();
}

int Fail(const Error& error) {
  std::cerr << "ferry-pull-bench: " << error.message << "\n";
  return kExitFailure;
}

int Main(int argc, char** argv) {
  CLI::App app{"ferry-pull-bench: trees and a capped timer for bench/pull/run"};
  AddVersionFlag(app);
  app.require_subcommand(1);
  uint64_t files = 0;
  std::string out, log;
  bool next = false;
  double cap = 600;
  std::vector<std::string> command;

  auto* tree = app.add_subcommand("tree", "write a model-shaped tree of small files");
  tree->add_option("--files", files)->required()->check(CLI::PositiveNumber);
  tree->add_option("--out", out)->required();
  tree->add_flag("--next", next, "the next version: about 1% of the files rewritten");
  auto* time = app.add_subcommand("time", "run a command under a wall-clock cap");
  time->add_option("--cap", cap, "seconds")->required()->check(CLI::PositiveNumber);
  time->add_option("--log", log, "file for the command's output")->required();
  time->add_option("command", command, "the command, after --")->required();
  if (std::optional<int> code = ParseCommandLine(app, argc, argv)) return *code;

  const Status done = *tree ? WriteTree(files, out, next) : TimeCapped(command, cap, log);
  if (!done) return Fail(done.error());
  return kExitOk;
}

}  // namespace
}  // namespace ferry

int main(int argc, char** argv) { return ferry::Main(argc, argv); }
