#include "lib/common/log_fields.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace ferry {
namespace {

bool IsKeyByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

bool NeedsQuotes(std::string_view value) {
  if (value.empty()) return true;  // `key=` would read as a missing value
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || byte < 0x20 || byte == 0x7f) return true;
  }
  return false;
}

void AppendValue(std::string& out, std::string_view value) {
  if (!NeedsQuotes(value)) {
    out += value;
    return;
  }
  out += '"';
  for (char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned char>(c));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Reads one value at `at` (quoted or bare), as AppendValue wrote it.
std::string ReadValue(std::string_view text, size_t& at) {
  std::string value;
  if (at >= text.size() || text[at] != '"') {
    const size_t end = std::min(text.find(' ', at), text.size());
    value = std::string(text.substr(at, end - at));
    at = end;
    return value;
  }
  ++at;
  while (at < text.size() && text[at] != '"') {
    char c = text[at++];
    if (c != '\\' || at >= text.size()) {
      value += c;
      continue;
    }
    const char escape = text[at++];
    switch (escape) {
      case 'n':
        value += '\n';
        break;
      case 'r':
        value += '\r';
        break;
      case 't':
        value += '\t';
        break;
      case 'x':
        if (at + 1 < text.size() && HexDigit(text[at]) >= 0 && HexDigit(text[at + 1]) >= 0) {
          value += static_cast<char>(HexDigit(text[at]) * 16 + HexDigit(text[at + 1]));
          at += 2;
        }
        break;
      default:
        value += escape;  // a quote or a backslash
    }
  }
  if (at < text.size()) ++at;  // the closing quote
  return value;
}

bool IsRecordMember(std::string_view key) {
  return key == "ts" || key == "level" || key == "logger" || key == "msg";
}

// Appends the fields as members of the JSON object the inner formatter just
// wrote into `dest` from `start` (one object and a newline), without parsing it.
void AppendJsonMembers(const DecodedLogRecord& record, spdlog::memory_buf_t& dest, size_t start) {
  const size_t size = dest.size();
  if (size < start + 3 || dest[size - 2] != '}' || dest[size - 1] != '\n') return;
  dest.resize(size - 2);
  bool first = dest[dest.size() - 1] == '{';
  std::string members;
  for (const auto& [key, value] : record.fields) {
    if (!first) members += ',';
    first = false;
    const nlohmann::json name = IsRecordMember(key) ? key + "_" : key;
    members += name.dump();
    members += ':';
    members += nlohmann::json(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  members += "}\n";
  dest.append(members.data(), members.data() + members.size());
}

class FieldsFormatter final : public spdlog::formatter {
 public:
  FieldsFormatter(std::unique_ptr<spdlog::formatter> inner, LogFormat format)
      : inner_(std::move(inner)), format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    const size_t marker = payload.find(kFieldsMarker);
    if (marker == std::string_view::npos) {
      inner_->format(msg, dest);
      return;
    }
    spdlog::details::log_msg copy = msg;
    if (format_ == LogFormat::kText) {
      // The fields are already text; only the marker goes.
      std::string text(payload.substr(0, marker));
      text += payload.substr(marker + 1);
      copy.payload = spdlog::string_view_t(text.data(), text.size());
      inner_->format(copy, dest);
      return;
    }
    const DecodedLogRecord record = DecodeLogRecord(payload);
    copy.payload = spdlog::string_view_t(record.message.data(), record.message.size());
    const size_t start = dest.size();
    inner_->format(copy, dest);
    AppendJsonMembers(record, dest, start);
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<FieldsFormatter>(inner_->clone(), format_);
  }

 private:
  std::unique_ptr<spdlog::formatter> inner_;
  const LogFormat format_;
};

}  // namespace

std::string EncodeLogRecord(std::string_view message, LogFields fields) {
  std::string out(message);
  for (char& c : out) {
    if (c == kFieldsMarker) c = ' ';
  }
  if (fields.size() == 0) return out;
  out += kFieldsMarker;
  for (const LogField& field : fields) {
    out += ' ';
    if (field.key.empty()) out += '_';
    for (char c : field.key) out += IsKeyByte(c) ? c : '_';
    out += '=';
    AppendValue(out, field.value);
  }
  return out;
}

DecodedLogRecord DecodeLogRecord(std::string_view payload) {
  DecodedLogRecord record;
  const size_t marker = payload.find(kFieldsMarker);
  record.message = payload.substr(0, marker);
  if (marker == std::string_view::npos) return record;
  const std::string_view text = payload.substr(marker + 1);
  size_t at = 0;
  while (at < text.size()) {
    while (at < text.size() && text[at] == ' ') ++at;
    if (at >= text.size()) break;
    const size_t equals = text.find('=', at);
    if (equals == std::string_view::npos) break;  // not written by Log
    std::string key(text.substr(at, equals - at));
    at = equals + 1;
    std::string value = ReadValue(text, at);
    record.fields.emplace_back(std::move(key), std::move(value));
  }
  return record;
}

void Log(spdlog::logger* logger, spdlog::level::level_enum level, std::string_view message,
         LogFields fields) {
  if (logger == nullptr || !logger->should_log(level)) return;
  const std::string record = EncodeLogRecord(message, fields);
  logger->log(level, spdlog::string_view_t(record.data(), record.size()));
}

std::unique_ptr<spdlog::formatter> WithLogFields(std::unique_ptr<spdlog::formatter> inner,
                                                 LogFormat format) {
  return std::make_unique<FieldsFormatter>(std::move(inner), format);
}

}  // namespace ferry
