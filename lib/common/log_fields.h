// Key/value fields on log records (object, step, phase…), so a collector can
// filter on them and a person can still read the line:
//
//   Log(log, spdlog::level::info, "paused", {{"object", "ml/coder-1-1-0"}, {"step", 2}});
//
//   text:  … info  operator: paused object=ml/coder-1-1-0 step=2
//   JSON:  {"ts":…,"level":"info","logger":"operator","msg":"paused",
//           "object":"ml/coder-1-1-0","step":"2"}
//
// spdlog carries only a message, so Log writes the fields after it in text
// form (logfmt: key=value, a value with spaces, quotes, '=' or control
// characters quoted and escaped), separated from the message by one
// kFieldsMarker byte. The formatter that WithLogFields wraps around a
// MakeFormatter one removes the marker (text) or turns the fields into
// members of the record (JSON). Under a formatter that is not wrapped, the
// fields still show, as text after the message.
//
// Invariants: keys are [A-Za-z0-9_.-] (other bytes become '_'); the message
// never contains the marker (Log replaces it), so the split is exact; a key
// that the record already has (ts, level, logger, msg) gets a trailing '_'
// in JSON. Values are strings in JSON. Nothing is formatted when the logger
// would not log the level.
#pragma once

#include <spdlog/formatter.h>
#include <spdlog/logger.h>

#include <concepts>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/common/log.h"

namespace ferry {

inline constexpr char kFieldsMarker = '\x1f';  // ASCII unit separator

struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  template <std::integral T>
  LogField(std::string_view k, T v) : key(k), value(std::to_string(v)) {}
  LogField(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}

  std::string_view key;  // a literal, as a rule; must outlive the call
  std::string value;
};

using LogFields = std::initializer_list<LogField>;

// Logs `message` with `fields` at `level`; does nothing when `logger` is null.
void Log(spdlog::logger* logger, spdlog::level::level_enum level, std::string_view message,
         LogFields fields = {});
inline void Log(const std::shared_ptr<spdlog::logger>& logger, spdlog::level::level_enum level,
                std::string_view message, LogFields fields = {}) {
  Log(logger.get(), level, message, fields);
}

// The record text Log hands to spdlog: message, marker, " key=value…".
std::string EncodeLogRecord(std::string_view message, LogFields fields);

// A record split back into its message and fields (none when it carries no
// marker, as records logged without Log).
struct DecodedLogRecord {
  std::string_view message;
  std::vector<std::pair<std::string, std::string>> fields;
};
DecodedLogRecord DecodeLogRecord(std::string_view payload);

// `inner` (from MakeFormatter(format)) made aware of fields, as above.
std::unique_ptr<spdlog::formatter> WithLogFields(std::unique_ptr<spdlog::formatter> inner,
                                                 LogFormat format);

}  // namespace ferry
