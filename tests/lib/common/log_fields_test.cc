#include "lib/common/log_fields.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace ferry {
namespace {

// One record logged through Log into a sink with `format`'s field-aware formatter.
std::string LogOnce(LogFormat format, std::string_view message, LogFields fields) {
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  sink->set_formatter(WithLogFields(MakeFormatter(format), format));
  auto logger = std::make_shared<spdlog::logger>("operator", sink);
  Log(logger, spdlog::level::info, message, fields);
  return captured.str();
}

TEST(LogFieldsJsonTest, FieldsBecomeMembersOfTheRecord) {
  const std::string line = LogOnce(
      LogFormat::kJson, "paused", {{"object", "ml/coder-1-1-0"}, {"step", 2}, {"phase", "Paused"}});
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  const nlohmann::json record = nlohmann::json::parse(line);
  EXPECT_EQ(record["msg"], "paused");
  EXPECT_EQ(record["level"], "info");
  EXPECT_EQ(record["logger"], "operator");
  EXPECT_EQ(record["object"], "ml/coder-1-1-0");
  EXPECT_EQ(record["step"], "2");
  EXPECT_EQ(record["phase"], "Paused");
}

TEST(LogFieldsJsonTest, AwkwardValuesSurviveEscaping) {
  const std::string awkward = "say \"hi\"\nback\\slash = x\ty";
  const std::string line =
      LogOnce(LogFormat::kJson, "msg with \"quotes\"", {{"reason", awkward}, {"empty", ""}});
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  const nlohmann::json record = nlohmann::json::parse(line);
  EXPECT_EQ(record["msg"], "msg with \"quotes\"");
  EXPECT_EQ(record["reason"], awkward);
  EXPECT_EQ(record["empty"], "");
}

TEST(LogFieldsJsonTest, FieldsDoNotOverwriteTheRecordsOwnMembers) {
  const nlohmann::json record =
      nlohmann::json::parse(LogOnce(LogFormat::kJson, "hello", {{"msg", "other"}, {"ts", "x"}}));
  EXPECT_EQ(record["msg"], "hello");
  EXPECT_EQ(record["msg_"], "other");
  EXPECT_EQ(record["ts_"], "x");
  EXPECT_NE(record["ts"], "x");
}

TEST(LogFieldsTextTest, FieldsFollowTheMessageAsKeyValue) {
  const std::string line = LogOnce(
      LogFormat::kText, "paused", {{"object", "ml/coder-1-1-0"}, {"step", 2}, {"phase", "Paused"}});
  EXPECT_NE(line.find("operator: paused object=ml/coder-1-1-0 step=2 phase=Paused\n"),
            std::string::npos)
      << line;
  EXPECT_EQ(line.find(kFieldsMarker), std::string::npos) << "the marker must not reach the line";
}

TEST(LogFieldsTextTest, ValuesWithSpacesAreQuoted) {
  const std::string line =
      LogOnce(LogFormat::kText, "failed", {{"reason", "webhook said \"no\""}, {"odd key", "a=b"}});
  EXPECT_NE(line.find(R"(failed reason="webhook said \"no\"" odd_key="a=b")"), std::string::npos)
      << line;
}

TEST(LogFieldsTest, RecordsWithoutFieldsAreUnchanged) {
  const nlohmann::json record = nlohmann::json::parse(LogOnce(LogFormat::kJson, "plain", {}));
  EXPECT_EQ(record["msg"], "plain");
  EXPECT_EQ(record.size(), 4u);
  EXPECT_NE(LogOnce(LogFormat::kText, "plain", {}).find("operator: plain\n"), std::string::npos);
}

TEST(LogFieldsTest, EncodeAndDecodeRoundTrip) {
  const std::string encoded = EncodeLogRecord(
      "a\x1f"
      "b",
      {{"k", "v w"}, {"n", -3}, {"ok", true}, {"ctl", std::string("\x01")}});
  const DecodedLogRecord decoded = DecodeLogRecord(encoded);
  EXPECT_EQ(decoded.message, "a b") << "a marker in the message is replaced";
  ASSERT_EQ(decoded.fields.size(), 4u);
  EXPECT_EQ(decoded.fields[0], (std::pair<std::string, std::string>{"k", "v w"}));
  EXPECT_EQ(decoded.fields[1].second, "-3");
  EXPECT_EQ(decoded.fields[2].second, "true");
  EXPECT_EQ(decoded.fields[3].second, "\x01");
}

TEST(LogFieldsTest, NothingHappensForANullLoggerOrADisabledLevel) {
  Log(std::shared_ptr<spdlog::logger>{}, spdlog::level::info, "nobody", {{"k", "v"}});
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  spdlog::logger logger("quiet", sink);
  logger.set_level(spdlog::level::warn);
  Log(&logger, spdlog::level::info, "hidden", {{"k", "v"}});
  EXPECT_TRUE(captured.str().empty());
}

}  // namespace
}  // namespace ferry
