#include "lib/kube/api_error.h"

#include "lib/kube/object.h"

namespace ferry::kube {
namespace {

// A JSON patch (RFC 6902) that did not apply to the object as the server
// holds it: a failed `test` operation, or a path that is no longer there. For
// a patch made from a read of the object that means what a 409 says of a
// stale resourceVersion: the object is not as the writer read it. The API
// server says so with a bare 422 (a generic message, no causes; checked on
// Kubernetes 1.36), where a refused object's 422 names its invalid fields in
// details.causes. Older servers put the patch library's words in the causes.
bool IsUnappliedJsonPatch(const HttpRequest& request, int status, const std::string& reason,
                          const std::string& causes) {
  if (status != 422 || request.content_type != "application/json-patch+json") return false;
  return (reason == "Invalid" && causes.empty()) || causes.find("test failed") != std::string::npos;
}

// The messages of details.causes, which say what a generic message does not.
std::string CausesOf(const nlohmann::json& status) {
  std::string text;
  const nlohmann::json& causes = ObjectField(status, "details").value("causes", nlohmann::json());
  if (!causes.is_array()) return text;
  for (const nlohmann::json& cause : causes) {
    const std::string message = StringField(cause, "message");
    if (message.empty()) continue;
    text += (text.empty() ? "" : "; ") + message;
  }
  return text;
}

ErrorCode CodeFor(int status, const std::string& reason) {
  switch (status) {
    case 400:
    case 422:
      return ErrorCode::kInvalidArgument;
    case 401:
    case 403:
      return ErrorCode::kPermissionDenied;
    case 404:
      return ErrorCode::kNotFound;
    case 409:
      return reason == "AlreadyExists" ? ErrorCode::kAlreadyExists : ErrorCode::kConflict;
    case 410:
      return ErrorCode::kExpired;
    case 429:
      return ErrorCode::kUnavailable;
    default:
      return status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kInternal;
  }
}

std::string AdviceFor(int status) {
  switch (status) {
    case 401:
      return "; the credentials were not accepted: check the kubeconfig's user or the service "
             "account token";
    case 403:
      return "; grant the permission in the RBAC rules of this identity";
    case 409:
      return "";
    case 410:
      return "; list again to get a current resourceVersion";
    default:
      return "";
  }
}

}  // namespace

Error ApiError(const HttpRequest& request, const HttpResponse& response) {
  std::string reason;
  std::string message;
  std::string causes;
  const nlohmann::json status = nlohmann::json::parse(response.body, nullptr, false);
  if (status.is_object() && StringField(status, "kind") == "Status") {
    reason = StringField(status, "reason");
    message = StringField(status, "message");
    causes = CausesOf(status);
  } else {
    message = response.body.substr(0, 300);
  }
  std::string text =
      request.method + " " + request.target + ": HTTP " + std::to_string(response.status);
  if (!reason.empty()) text += " " + reason;
  if (!message.empty()) text += ": " + message;
  // Validation errors repeat their causes in the message; generic answers do not.
  if (!causes.empty() && message.find(causes) == std::string::npos) text += " (" + causes + ")";
  const ErrorCode code = IsUnappliedJsonPatch(request, response.status, reason, causes)
                             ? ErrorCode::kConflict
                             : CodeFor(response.status, reason);
  return MakeError(code, text + AdviceFor(response.status));
}

}  // namespace ferry::kube
