// What Ferry's HTTP clients (lib/fetch's repository source, lib/kube's
// transport) read the same way from a cpp-httplib exchange: how long the
// server asked them to wait, and what went wrong when no answer came. Each
// client decides for itself what a failure means (a retry, a refusal).
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace httplib {
struct Response;
enum class Error;
}  // namespace httplib

namespace ferry {

// Retry-After in its delta-seconds form, at most a day; nullopt when the
// answer has none or gives an HTTP date (left to the caller's backoff).
std::optional<std::chrono::seconds> RetryAfterSeconds(const httplib::Response& answer);

// An exchange that got no answer, in words for a message: "could not
// connect", "timed out connecting", "the connection broke or went silent", ...
std::string DescribeTransportError(httplib::Error error);

}  // namespace ferry
