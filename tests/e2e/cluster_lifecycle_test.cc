// e2e/cluster/up and down as a user runs them: a second, private cluster (one
// kwok-simulated node, its own ports and state folder) comes up, and down leaves
// none of its processes running and none of its ports listening. Also: up refuses
// a taken port and names it.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/paths.h"
#include "tests/support/process.h"

namespace ferry::testing {
namespace {

constexpr int kPortBase =
    26500;  // apart from the demo's 26400.. and the shared test cluster's 26410..
constexpr int kPortCount = 5;

// A listening TCP socket on 127.0.0.1, closed when it goes out of scope.
class Listener {
 public:
  explicit Listener(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address = Loopback(port);
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
             listen(fd_, 1) == 0;
  }
  ~Listener() { close(fd_); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  bool bound() const { return bound_; }

  static sockaddr_in Loopback(int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
  }

 private:
  int fd_;
  bool bound_ = false;
};

bool Accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address = Listener::Loopback(port);
  const bool connected = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return connected;
}

// A pid that still exists and is not a zombie waiting to be reaped.
bool Running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto after_name = line.rfind(')');
  return after_name != std::string::npos && line.substr(after_name + 2, 1) != "Z";
}

class ClusterLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ =
        std::filesystem::temp_directory_path() / ("ferry-e2e-cluster-" + std::to_string(getpid()));
  }
  void TearDown() override {
    RunProcess({SourcePath("e2e/cluster/down"), "--state", state_.string()});
  }
  ProcessResult Up(int port_base) {
    return RunProcess({SourcePath("e2e/cluster/up"), "--state", state_.string(), "--port-base",
                       std::to_string(port_base), "--nodes", "1"});
  }
  std::filesystem::path state_;
};

TEST_F(ClusterLifecycleTest, DownStopsEveryProcessAndFreesEveryPort) {
  ProcessResult up = Up(kPortBase);
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_EQ(up.out, (state_ / "kubeconfig").string() + "\n");

  std::vector<pid_t> pids;
  std::ifstream recorded(state_ / "pids");
  std::string name;
  pid_t pid = 0;
  while (recorded >> name >> pid) pids.push_back(pid);
  ASSERT_EQ(pids.size(), 5u) << "etcd, apiserver, controller-manager, scheduler, kwok";
  for (pid_t p : pids) EXPECT_TRUE(Running(p)) << p;
  for (int port = kPortBase; port < kPortBase + kPortCount; ++port) {
    EXPECT_TRUE(Accepts(port)) << "port " << port << " should be listening while up";
  }

  ProcessResult down = RunProcess({SourcePath("e2e/cluster/down"), "--state", state_.string()});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  for (pid_t p : pids) EXPECT_FALSE(Running(p)) << "pid " << p << " outlived down";
  for (int port = kPortBase; port < kPortBase + kPortCount; ++port) {
    EXPECT_FALSE(Accepts(port)) << "port " << port << " still listening after down";
  }
  EXPECT_FALSE(std::filesystem::exists(state_));

  ProcessResult again = RunProcess({SourcePath("e2e/cluster/down"), "--state", state_.string()});
  EXPECT_EQ(again.exit_code, 0) << "down with nothing running is not an error: " << again.err;
}

TEST_F(ClusterLifecycleTest, UpNamesTheTakenPortAndStartsNothing) {
  const int apiserver_port = kPortBase + 2;
  Listener squatter(apiserver_port);
  ASSERT_TRUE(squatter.bound()) << "port " << apiserver_port << " is busy on this machine";

  ProcessResult up = Up(kPortBase);
  EXPECT_EQ(up.exit_code, 1);
  EXPECT_NE(up.err.find("port " + std::to_string(apiserver_port)), std::string::npos) << up.err;
  EXPECT_NE(up.err.find("kube-apiserver"), std::string::npos) << up.err;
  EXPECT_FALSE(std::filesystem::exists(state_ / "pids")) << "nothing may start";
}

TEST_F(ClusterLifecycleTest, UpRejectsBadArgumentsWithUsage) {
  ProcessResult up = RunProcess({SourcePath("e2e/cluster/up"), "--nodes", "many"});
  EXPECT_EQ(up.exit_code, 2);
  EXPECT_NE(up.err.find("--nodes"), std::string::npos) << up.err;
}

}  // namespace
}  // namespace ferry::testing
