#include "lib/common/log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace ferry {
namespace {

TEST(LogFormatTest, ParsesKnownNamesOnly) {
  EXPECT_EQ(ParseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(ParseLogFormat("JSON"), std::nullopt);
  EXPECT_EQ(ParseLogFormat(""), std::nullopt);
}

std::string LogOnce(LogFormat format, const std::string& message) {
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  sink->set_formatter(MakeFormatter(format));
  spdlog::logger logger("operator", sink);
  logger.warn("{}", message);
  return captured.str();
}

TEST(LogJsonTest, QuotesAndNewlinesStayInsideOneObject) {
  const std::string message = "model \"coder\"\nsecond line\\";
  const std::string line = LogOnce(LogFormat::kJson, message);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "the record must be a single line: " << line;

  const nlohmann::json record = nlohmann::json::parse(line);
  EXPECT_EQ(record["msg"], message);
  EXPECT_EQ(record["level"], "warning");
  EXPECT_EQ(record["logger"], "operator");
  const std::string ts = record["ts"];
  EXPECT_EQ(ts.size(), std::string("2026-01-01T00:00:00.000Z").size()) << ts;
  EXPECT_EQ(ts.back(), 'Z');
}

TEST(LogTextTest, NamesLevelLoggerAndMessage) {
  const std::string line = LogOnce(LogFormat::kText, "staged 1.1.0");
  EXPECT_NE(line.find("warn"), std::string::npos) << line;
  EXPECT_NE(line.find("operator: staged 1.1.0"), std::string::npos) << line;
}

}  // namespace
}  // namespace ferry
