// Strict reading of JSON documents whose shape Ferry defines (manifests, the
// store's records, Kubernetes objects), with errors that name the failing
// path: "spec.strategy.canary.steps[2].pause.duration: expected a string,
// got 5". One set of helpers for the whole code base, so that every reader
// refuses a wrong type the same way instead of throwing, defaulting or
// guessing.
//
// A JsonView is a borrowed value plus the path that reached it; it never
// copies the document, so the document must outlive every view of it. Absent
// members and explicit nulls read the same, as the Kubernetes API treats them
// (a merge patch's null removes a field). Errors carry the view's ErrorCode:
// kInvalidArgument for input a user wrote, kCorrupt for files Ferry wrote
// itself and reads back.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/common/result.h"

namespace ferry {

// Parses `text` as one JSON document; the error names `what` and where the
// parser stopped.
Result<nlohmann::json> ParseJson(std::string_view text, std::string_view what,
                                 ErrorCode code = ErrorCode::kInvalidArgument);

class JsonView {
 public:
  // A view of null, so that views can be held in containers and results.
  JsonView() : JsonView(Null(), "") {}
  // `path` names the value for messages ("spec", "manifest"); it may be empty.
  JsonView(const nlohmann::json& value, std::string path,
           ErrorCode code = ErrorCode::kInvalidArgument)
      : value_(&value), path_(std::move(path)), code_(code) {}

  const nlohmann::json& json() const { return *value_; }
  const std::string& path() const { return path_; }
  bool is_null() const { return value_->is_null(); }

  // "<path>: <message>", with this view's code.
  Error Invalid(std::string_view message) const;

  // Object members. Every accessor first requires this value to be an object.
  bool Has(std::string_view key) const;  // present and not null
  Result<JsonView> Required(std::string_view key) const;
  // nullopt when absent or null; an error only when this is not an object.
  Result<std::optional<JsonView>> Optional(std::string_view key) const;
  // Refuses members outside `known`, naming the first one found.
  Status OnlyKnown(std::initializer_list<std::string_view> known) const;
  // Members in document order, each with its path.
  Result<std::vector<std::pair<std::string, JsonView>>> Members() const;

  // Scalars of exactly this type (an integer must be integral: 2.0 and "2" fail).
  Result<std::string> String() const;
  Result<int64_t> Int() const;
  Result<uint64_t> Uint() const;
  Result<bool> Bool() const;
  // An integer in [min, max], the bounds named in the error.
  Result<int64_t> IntIn(int64_t min, int64_t max) const;
  // Elements of an array, paths "<path>[i]".
  Result<std::vector<JsonView>> Items() const;

  // The usual combinations: a required member of a type, or an optional one
  // with a fallback used when it is absent or null.
  Result<std::string> RequiredString(std::string_view key) const;
  Result<std::string> StringOr(std::string_view key, std::string fallback) const;
  Result<std::optional<std::string>> OptionalString(std::string_view key) const;
  Result<int64_t> RequiredInt(std::string_view key) const;
  Result<int64_t> IntOr(std::string_view key, int64_t fallback) const;
  Result<std::optional<int64_t>> OptionalInt(std::string_view key) const;
  Result<uint64_t> RequiredUint(std::string_view key) const;
  Result<uint64_t> UintOr(std::string_view key, uint64_t fallback) const;
  Result<bool> BoolOr(std::string_view key, bool fallback) const;
  // Items of an array member; empty when absent or null.
  Result<std::vector<JsonView>> ItemsOr(std::string_view key) const;
  Result<std::vector<JsonView>> RequiredItems(std::string_view key) const;
  // An array of strings; empty when absent or null.
  Result<std::vector<std::string>> StringsOr(std::string_view key) const;
  // An object of strings (labels, a nodeSelector); empty when absent or null.
  Result<std::map<std::string, std::string>> StringMapOr(std::string_view key) const;

 private:
  static const nlohmann::json& Null();
  JsonView Child(const nlohmann::json& value, std::string path) const {
    return JsonView(value, std::move(path), code_);
  }
  std::string MemberPath(std::string_view key) const;
  Status ExpectObject() const;

  const nlohmann::json* value_;
  std::string path_;
  ErrorCode code_;
};

// Reads many fields in a row and keeps the first failure, so that a parser
// states each field once instead of checking after every read:
//   FirstError first;
//   spec.model = first(view.RequiredString("model"));
//   spec.replicas = first(view.IntOr("replicas", 1));
//   if (!first.ok()) return first.error();
// After a failure every later read gives a value-initialised T, which the
// caller discards with the error.
class FirstError {
 public:
  template <typename T>
  T operator()(Result<T> result) {
    if (result.ok()) return std::move(result).value();
    if (!error_) error_ = result.error();
    return T{};
  }
  void operator()(const Status& status) {
    if (!status.ok() && !error_) error_ = status.error();
  }
  bool ok() const { return !error_.has_value(); }
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

// The JSON type name of `value` and a short rendering, for messages:
// `a string ("x")`, `a number (5)`, `an object`.
std::string DescribeJson(const nlohmann::json& value);

}  // namespace ferry
