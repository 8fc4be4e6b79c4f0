#include "lib/kube/client.h"

#include <algorithm>

#include "lib/kube/api_error.h"
#include "lib/kube/client_metrics.h"
#include "lib/kube/rate_limiter.h"

namespace ferry::kube {

namespace {

constexpr const char* kJson = "application/json";

std::string ListTarget(const ResourceType& type, std::string_view namespace_name,
                       const ListOptions& options) {
  std::string target = CollectionPath(type, namespace_name);
  AddQueryParameter(target, "labelSelector", options.label_selector);
  AddQueryParameter(target, "fieldSelector", options.field_selector);
  AddQueryParameter(target, "limit", options.limit > 0 ? std::to_string(options.limit) : "");
  AddQueryParameter(target, "continue", options.continue_token);
  AddQueryParameter(target, "resourceVersion", options.resource_version);
  return target;
}

Result<Json> ParseBody(const HttpRequest& request, const HttpResponse& response) {
  if (response.body.empty()) return Json::object();
  Json body = Json::parse(response.body, nullptr, false);
  if (body.is_discarded()) {
    return MakeError(ErrorCode::kCorrupt, request.method + " " + request.target +
                                              ": the answer is not JSON (Content-Type " +
                                              response.content_type + ")");
  }
  return body;
}

// Where an object of `type` lives, from its own metadata.
Result<std::string> PathOf(const ResourceType& type, const Json& object,
                           const std::string& fallback_namespace, std::string_view subresource) {
  const std::string name = Name(object);
  if (name.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, type.kind + " has no metadata.name");
  }
  const std::string ns = Namespace(object).empty() ? fallback_namespace : Namespace(object);
  return ObjectPath(type, type.namespaced ? ns : "", name, subresource);
}

}  // namespace

Result<std::unique_ptr<Client>> Client::Create(const ClusterConfig& config, ClientOptions options) {
  Result<std::unique_ptr<Transport>> transport = Transport::Create(config, options.transport);
  if (!transport) return transport.error();
  return std::make_unique<Client>(std::move(*transport), std::move(options),
                                  config.default_namespace);
}

Client::Client(std::unique_ptr<Transport> transport, ClientOptions options,
               std::string namespace_name)
    : transport_(std::move(transport)),
      options_(std::move(options)),
      default_namespace_(std::move(namespace_name)),
      throttle_(options_.qps > 0
                    ? std::make_unique<TokenBucketLimiter>(options_.qps, options_.burst)
                    : nullptr) {}

Client::~Client() = default;

ClientStats Client::stats() const { return {requests_, retries_, throttled_ms_}; }

Result<HttpResponse> Client::Send(const HttpRequest& request, bool idempotent) {
  Backoff backoff(options_.retry_backoff);
  for (int attempt = 0;; ++attempt) {
    if (throttle_) {
      // Every attempt takes a token, retries included: a storm must not multiply our load.
      const std::chrono::milliseconds wait = throttle_->When("");
      if (wait.count() > 0) {
        throttled_ms_ += static_cast<uint64_t>(wait.count());
        if (options_.metrics != nullptr) options_.metrics->ObserveThrottled(wait);
        std::this_thread::sleep_for(wait);
      }
    }
    ++requests_;
    const auto sent_at = std::chrono::steady_clock::now();
    Result<HttpResponse> answer = transport_->RoundTrip(request);
    if (options_.metrics != nullptr) {
      options_.metrics->Observe(request.method, answer ? answer->status : 0,
                                std::chrono::steady_clock::now() - sent_at);
    }
    std::optional<std::chrono::seconds> retry_after;
    bool retry = false;
    std::string why;
    if (!answer) {
      retry = idempotent && answer.error().code == ErrorCode::kUnavailable;
      why = answer.error().message;
    } else {
      const int status = answer->status;
      retry_after = answer->retry_after;
      retry = status == 429 || (status >= 500 && (retry_after.has_value() || idempotent));
      why = request.method + " " + request.target + ": HTTP " + std::to_string(status);
    }
    if (!retry) return answer;
    if (attempt >= options_.max_retries) {
      if (!answer)
        return answer.error().Wrap("gave up after " + std::to_string(attempt + 1) + " attempts");
      return answer;
    }
    std::chrono::milliseconds wait = backoff.Next();
    if (retry_after) wait = std::max<std::chrono::milliseconds>(wait, *retry_after);
    ++retries_;
    if (options_.metrics != nullptr) options_.metrics->CountRetry();
    if (options_.log) options_.log->warn("{}; retrying in {} ms", why, wait.count());
    std::this_thread::sleep_for(wait);
  }
}

Result<HttpResponse> Client::Raw(const HttpRequest& request, bool idempotent) {
  return Send(request, idempotent);
}

Result<Json> Client::Call(const HttpRequest& request, bool idempotent) {
  Result<HttpResponse> answer = Send(request, idempotent);
  if (!answer) return answer.error();
  if (answer->status < 200 || answer->status >= 300) return ApiError(request, *answer);
  return ParseBody(request, *answer);
}

Result<Json> Client::Get(const ResourceType& type, std::string_view namespace_name,
                         std::string_view name, std::string_view subresource) {
  return Call({"GET", ObjectPath(type, namespace_name, name, subresource), "", ""}, true);
}

Result<ObjectList> Client::List(const ResourceType& type, std::string_view namespace_name,
                                const ListOptions& options) {
  Result<Json> body = Call({"GET", ListTarget(type, namespace_name, options), "", ""}, true);
  if (!body) return body.error();
  ObjectList list;
  const Json& metadata = ObjectField(*body, "metadata");
  list.resource_version = StringField(metadata, "resourceVersion");
  list.continue_token = StringField(metadata, "continue");
  if (auto items = body->find("items"); items != body->end() && items->is_array()) {
    list.items.reserve(items->size());
    for (Json& item : *items) {
      // Items of a list carry no apiVersion/kind of their own; give them theirs.
      item["apiVersion"] = type.ApiVersion();
      item["kind"] = type.kind;
      list.items.push_back(std::move(item));
    }
  }
  return list;
}

Result<std::string> Client::ListPages(const ResourceType& type, std::string_view namespace_name,
                                      ListOptions options,
                                      const std::function<void(ObjectList&)>& on_page) {
  std::string snapshot;
  do {
    Result<ObjectList> page = List(type, namespace_name, options);
    if (!page) return page.error();
    if (snapshot.empty()) snapshot = page->resource_version;
    on_page(*page);
    options.continue_token = page->continue_token;
    options.resource_version.clear();  // a continue token pins the snapshot itself
  } while (!options.continue_token.empty());
  return snapshot;
}

Result<ObjectList> Client::ListAll(const ResourceType& type, std::string_view namespace_name,
                                   ListOptions options) {
  ObjectList all;
  Result<std::string> snapshot =
      ListPages(type, namespace_name, std::move(options), [&](ObjectList& page) {
        std::move(page.items.begin(), page.items.end(), std::back_inserter(all.items));
      });
  if (!snapshot) return snapshot.error();
  all.resource_version = std::move(*snapshot);
  return all;
}

Result<Json> Client::Create(const ResourceType& type, const Json& object) {
  const std::string ns = Namespace(object).empty() ? default_namespace_ : Namespace(object);
  return Call({"POST", CollectionPath(type, type.namespaced ? ns : ""), object.dump(), kJson},
              false);
}

Result<Json> Client::Update(const ResourceType& type, const Json& object) {
  Result<std::string> path = PathOf(type, object, default_namespace_, "");
  if (!path) return path.error();
  return Call({"PUT", *path, object.dump(), kJson}, true);
}

Result<Json> Client::UpdateStatus(const ResourceType& type, const Json& object) {
  Result<std::string> path = PathOf(type, object, default_namespace_, "status");
  if (!path) return path.error();
  return Call({"PUT", *path, object.dump(), kJson}, true);
}

Result<Json> Client::Patch(const ResourceType& type, std::string_view namespace_name,
                           std::string_view name, PatchType patch_type, const Json& patch,
                           std::string_view subresource) {
  const char* content_type = patch_type == PatchType::kMerge ? "application/merge-patch+json"
                             : patch_type == PatchType::kJson
                                 ? "application/json-patch+json"
                                 : "application/strategic-merge-patch+json";
  return Call(
      {"PATCH", ObjectPath(type, namespace_name, name, subresource), patch.dump(), content_type},
      false);
}

Result<Json> Client::Apply(const ResourceType& type, const Json& object,
                           const ApplyOptions& options, std::string_view subresource) {
  if (options.field_manager.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "server-side apply needs a field manager");
  }
  Result<std::string> path = PathOf(type, object, default_namespace_, subresource);
  if (!path) return path.error();
  std::string target = *path;
  AddQueryParameter(target, "fieldManager", options.field_manager);
  AddQueryParameter(target, "force", options.force ? "true" : "");
  // JSON is YAML, so the apply body needs no YAML emitter. Apply is idempotent:
  // the same intent applied twice leaves the same object.
  return Call({"PATCH", target, object.dump(), "application/apply-patch+yaml"}, true);
}

Status Client::Delete(const ResourceType& type, std::string_view namespace_name,
                      std::string_view name, const DeleteOptions& options) {
  Json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!options.precondition_uid.empty()) body["preconditions"]["uid"] = options.precondition_uid;
  if (!options.precondition_resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = options.precondition_resource_version;
  }
  if (!options.propagation_policy.empty()) body["propagationPolicy"] = options.propagation_policy;
  if (options.grace_period_seconds) body["gracePeriodSeconds"] = *options.grace_period_seconds;
  Result<Json> answer =
      Call({"DELETE", ObjectPath(type, namespace_name, name), body.dump(), kJson}, true);
  if (!answer) return answer.error();
  return OkStatus();
}

}  // namespace ferry::kube
