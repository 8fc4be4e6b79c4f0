#include "lib/fetch/progress.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>
#include <thread>
#include <vector>

namespace ferry::fetch {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

TEST(ProgressTest, PlainModeWritesALineEachTenthAndASummary) {
  std::ostringstream captured;
  auto log = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  log->set_pattern("%v");
  {
    Progress progress("pull coder 1.0", 1000, log);
    for (int i = 0; i < 40; ++i) progress.Add(25);
  }  // the destructor finishes

  const std::vector<std::string> lines = Lines(captured.str());
  ASSERT_EQ(lines.size(), 11u) << captured.str();  // 10%, 20%, … 100%, then the summary
  for (const std::string& line : lines) {
    EXPECT_EQ(line.rfind("pull coder 1.0: ", 0), 0u) << line;
    EXPECT_NE(line.find('%'), std::string::npos) << line;
  }
  EXPECT_NE(lines[0].find(" 10% "), std::string::npos) << lines[0];
  EXPECT_NE(lines[9].find(" 100% "), std::string::npos) << lines[9];
  EXPECT_NE(lines[10].find("done, 100%"), std::string::npos) << lines[10];
}

TEST(ProgressTest, SaysWhereAnUnfinishedOperationStopped) {
  std::ostringstream captured;
  auto log = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  log->set_pattern("%v");
  Progress progress("pull", 4 << 20, log);
  progress.Add(1 << 20);
  progress.Finish();
  progress.Add(1 << 20);  // after Finish: ignored
  progress.Finish();

  const std::vector<std::string> lines = Lines(captured.str());
  ASSERT_EQ(lines.size(), 2u) << captured.str();
  EXPECT_NE(lines[1].find("stopped at 25% (1.0 MiB of 4.0 MiB"), std::string::npos) << lines[1];
}

TEST(ProgressTest, ConcurrentAddsAreAllCounted) {
  std::ostringstream captured;
  auto log = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  log->set_pattern("%v");
  {
    Progress progress("pull", 8 * 10000, log);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 10000; ++i) progress.Add(1);
      });
    }
    for (std::thread& thread : threads) thread.join();
  }
  EXPECT_NE(captured.str().find("done, 100%"), std::string::npos) << captured.str();
}

TEST(ProgressTest, ABarRedrawsOneLineAndEndsIt) {
  ::testing::internal::CaptureStderr();
  {
    Progress progress("pull coder", 100, /*log=*/nullptr);
    progress.Add(50);
    progress.Add(50);
  }
  const std::string drawn = ::testing::internal::GetCapturedStderr();
  ASSERT_FALSE(drawn.empty());
  EXPECT_EQ(drawn.front(), '\r');
  EXPECT_EQ(drawn.find('\n'), drawn.size() - 1) << "one line, ended once";
  EXPECT_NE(drawn.find("pull coder [" + std::string(30, '#') + "] 100%"), std::string::npos)
      << drawn;
}

}  // namespace
}  // namespace ferry::fetch
