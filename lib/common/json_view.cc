#include "lib/common/json_view.h"

#include <limits>

namespace ferry {

using nlohmann::json;

Result<json> ParseJson(std::string_view text, std::string_view what, ErrorCode code) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    // nlohmann's message already says "at line L, column C"; drop its prefix.
    std::string detail = e.what();
    if (auto colon = detail.find(": ");
        detail.rfind("[json.exception", 0) == 0 && colon != std::string::npos) {
      detail = detail.substr(colon + 2);
    }
    return MakeError(code, std::string(what) + ": not valid JSON: " + detail);
  }
}

const nlohmann::json& JsonView::Null() {
  static const nlohmann::json null_value;  // immutable: shared by every default view
  return null_value;
}

std::string DescribeJson(const json& value) {
  auto shortened = [](std::string text) {
    return text.size() > 40 ? text.substr(0, 37) + "..." : text;
  };
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string (" + shortened(value.dump()) + ")";
    case json::value_t::boolean:
      return "a boolean (" + value.dump() + ")";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "a number (" + shortened(value.dump()) + ")";
    default:
      return "a " + std::string(value.type_name());
  }
}

Error JsonView::Invalid(std::string_view message) const {
  return MakeError(code_, (path_.empty() ? std::string() : path_ + ": ") + std::string(message));
}

std::string JsonView::MemberPath(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

Status JsonView::ExpectObject() const {
  if (!value_->is_object()) return Invalid("expected an object, got " + DescribeJson(*value_));
  return OkStatus();
}

bool JsonView::Has(std::string_view key) const {
  if (!value_->is_object()) return false;
  auto it = value_->find(key);
  return it != value_->end() && !it->is_null();
}

Result<JsonView> JsonView::Required(std::string_view key) const {
  if (Status s = ExpectObject(); !s) return s.error();
  auto it = value_->find(key);
  if (it == value_->end() || it->is_null()) {
    return MakeError(code_, MemberPath(key) + ": required");
  }
  return Child(*it, MemberPath(key));
}

Result<std::optional<JsonView>> JsonView::Optional(std::string_view key) const {
  if (Status s = ExpectObject(); !s) return s.error();
  auto it = value_->find(key);
  if (it == value_->end() || it->is_null()) return std::optional<JsonView>();
  return std::optional<JsonView>(Child(*it, MemberPath(key)));
}

Status JsonView::OnlyKnown(std::initializer_list<std::string_view> known) const {
  if (Status s = ExpectObject(); !s) return s;
  for (const auto& [key, unused] : value_->items()) {
    bool listed = false;
    for (std::string_view name : known) listed = listed || name == key;
    if (!listed) return MakeError(code_, MemberPath(key) + ": unknown field");
  }
  return OkStatus();
}

Result<std::vector<std::pair<std::string, JsonView>>> JsonView::Members() const {
  if (Status s = ExpectObject(); !s) return s.error();
  std::vector<std::pair<std::string, JsonView>> members;
  for (const auto& [key, value] : value_->items()) {
    members.emplace_back(key, Child(value, MemberPath(key)));
  }
  return members;
}

Result<std::string> JsonView::String() const {
  if (!value_->is_string()) return Invalid("expected a string, got " + DescribeJson(*value_));
  return value_->get<std::string>();
}

Result<int64_t> JsonView::Int() const {
  if (value_->is_number_integer() && !value_->is_number_unsigned()) return value_->get<int64_t>();
  if (value_->is_number_unsigned()) {
    const uint64_t v = value_->get<uint64_t>();
    if (v <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return static_cast<int64_t>(v);
    }
    return Invalid("integer " + value_->dump() + " is too large");
  }
  return Invalid("expected an integer, got " + DescribeJson(*value_));
}

Result<uint64_t> JsonView::Uint() const {
  if (value_->is_number_unsigned()) return value_->get<uint64_t>();
  if (value_->is_number_integer()) return Invalid("must not be negative, got " + value_->dump());
  return Invalid("expected a non-negative integer, got " + DescribeJson(*value_));
}

Result<bool> JsonView::Bool() const {
  if (!value_->is_boolean()) return Invalid("expected true or false, got " + DescribeJson(*value_));
  return value_->get<bool>();
}

Result<int64_t> JsonView::IntIn(int64_t min, int64_t max) const {
  auto value = Int();
  if (!value) return value;
  if (*value < min || *value > max) {
    return Invalid("must be between " + std::to_string(min) + " and " + std::to_string(max) +
                   ", got " + std::to_string(*value));
  }
  return value;
}

Result<std::vector<JsonView>> JsonView::Items() const {
  if (!value_->is_array()) return Invalid("expected an array, got " + DescribeJson(*value_));
  std::vector<JsonView> items;
  items.reserve(value_->size());
  for (size_t i = 0; i < value_->size(); ++i) {
    items.push_back(Child((*value_)[i], path_ + "[" + std::to_string(i) + "]"));
  }
  return items;
}

Result<std::string> JsonView::RequiredString(std::string_view key) const {
  auto member = Required(key);
  if (!member) return member.error();
  return member->String();
}

Result<std::string> JsonView::StringOr(std::string_view key, std::string fallback) const {
  auto member = Optional(key);
  if (!member) return member.error();
  if (!*member) return fallback;
  return (*member)->String();
}

Result<std::optional<std::string>> JsonView::OptionalString(std::string_view key) const {
  auto member = Optional(key);
  if (!member) return member.error();
  if (!*member) return std::optional<std::string>();
  auto text = (*member)->String();
  if (!text) return text.error();
  return std::optional<std::string>(std::move(*text));
}

Result<int64_t> JsonView::RequiredInt(std::string_view key) const {
  auto member = Required(key);
  if (!member) return member.error();
  return member->Int();
}

Result<int64_t> JsonView::IntOr(std::string_view key, int64_t fallback) const {
  auto member = Optional(key);
  if (!member) return member.error();
  if (!*member) return fallback;
  return (*member)->Int();
}

Result<std::optional<int64_t>> JsonView::OptionalInt(std::string_view key) const {
  auto member = Optional(key);
  if (!member) return member.error();
  if (!*member) return std::optional<int64_t>();
  auto number = (*member)->Int();
  if (!number) return number.error();
  return std::optional<int64_t>(*number);
}

Result<uint64_t> JsonView::RequiredUint(std::string_view key) const {
  auto member = Required(key);
  if (!member) return member.error();
  return member->Uint();
}

Result<uint64_t> JsonView::UintOr(std::string_view key, uint64_t fallback) const {
  auto member = Optional(key);
  if (!member) return member.error();
  if (!*member) return fallback;
  return (*member)->Uint();
}

Result<bool> JsonView::BoolOr(std::string_view key, bool fallback) const {
  auto member = Optional(key);
  if (!member) return member.error();
  if (!*member) return fallback;
  return (*member)->Bool();
}

Result<std::vector<JsonView>> JsonView::ItemsOr(std::string_view key) const {
  auto member = Optional(key);
  if (!member) return member.error();
  if (!*member) return std::vector<JsonView>();
  return (*member)->Items();
}

Result<std::vector<JsonView>> JsonView::RequiredItems(std::string_view key) const {
  auto member = Required(key);
  if (!member) return member.error();
  return member->Items();
}

Result<std::vector<std::string>> JsonView::StringsOr(std::string_view key) const {
  auto items = ItemsOr(key);
  if (!items) return items.error();
  std::vector<std::string> strings;
  for (const JsonView& item : *items) {
    auto text = item.String();
    if (!text) return text.error();
    strings.push_back(std::move(*text));
  }
  return strings;
}

Result<std::map<std::string, std::string>> JsonView::StringMapOr(std::string_view key) const {
  std::map<std::string, std::string> map;
  auto member = Optional(key);
  if (!member) return member.error();
  if (!*member) return map;
  auto members = (*member)->Members();
  if (!members) return members.error();
  for (const auto& [name, value] : *members) {
    auto text = value.String();
    if (!text) return text.error();
    map.emplace(name, std::move(*text));
  }
  return map;
}

}  // namespace ferry
