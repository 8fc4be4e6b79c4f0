// Structured logging for Ferry's binaries, through spdlog. Text for people at a
// terminal; JSON lines (one object per record, fields properly escaped) for log
// collectors. Loggers are values handed to whoever logs; nothing registers a
// process-wide default.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ferry {

enum class LogFormat { kText, kJson };

// Parses "text" or "json"; nullopt for anything else.
std::optional<LogFormat> ParseLogFormat(std::string_view name);

// The record layout for `format`; exposed so tests and extra sinks share it.
std::unique_ptr<spdlog::formatter> MakeFormatter(LogFormat format);

// A logger named `name` writing to stderr in `format`.
std::shared_ptr<spdlog::logger> MakeLogger(const std::string& name, LogFormat format);

}  // namespace ferry
