// What the client makes of the API server's answers: the error code a caller
// acts on, and which failures it retries (client-go's rules: "come back" is
// retried for every verb, a bare 5xx or a broken connection only for verbs
// that are safe to repeat).
#include "lib/kube/client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "lib/kube/api_error.h"
#include "lib/kube/client_metrics.h"
#include "tests/lib/kube/scripted_http_server.h"
#include "tests/support/temp_dir.h"

namespace ferry::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using testing::ScriptedAnswer;
using testing::ScriptedHttpServer;
using testing::StatusBody;

// ----- ApiError -----

Error ErrorFor(int status, const std::string& body) {
  HttpResponse response;
  response.status = status;
  response.body = body;
  return ApiError({"GET", "/api/v1/namespaces/shop/pods/web-0", "", ""}, response);
}

void ExpectMentions(const Error& error, const std::string& needle) {
  EXPECT_NE(error.message.find(needle), std::string::npos)
      << "\"" << error.message << "\" does not mention \"" << needle << "\"";
}

TEST(ApiError, NotFoundNamesTheRequestAndTheServersMessage) {
  const Error error = ErrorFor(404, StatusBody(404, "NotFound", "pods \"web-0\" not found"));
  EXPECT_EQ(error.code, ErrorCode::kNotFound);
  EXPECT_EQ(error.message,
            "GET /api/v1/namespaces/shop/pods/web-0: HTTP 404 NotFound: pods \"web-0\" not found");
}

TEST(ApiError, A409SaysWhetherTheObjectExistsOrTheWriteLostARace) {
  EXPECT_EQ(ErrorFor(409, StatusBody(409, "AlreadyExists", "pods \"web-0\" already exists")).code,
            ErrorCode::kAlreadyExists);
  const Error conflict = ErrorFor(
      409, StatusBody(409, "Conflict", "the object has been modified; please apply your changes"));
  EXPECT_EQ(conflict.code, ErrorCode::kConflict);
  ExpectMentions(conflict, "the object has been modified");
}

TEST(ApiError, AJsonPatchThatDoesNotApplyIsAConflict) {
  const HttpRequest patch{"PATCH", "/apis/ferry.dev/v1alpha1/modelnodes/n1", "[]",
                          "application/json-patch+json"};
  // As Kubernetes 1.36 answers a failed test operation: a bare 422.
  HttpResponse bare;
  bare.status = 422;
  bare.body = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
              R"("message":"the server rejected our request due to an error in our request",)"
              R"("reason":"Invalid","details":{},"code":422})";
  EXPECT_EQ(ApiError(patch, bare).code, ErrorCode::kConflict);
  // With the patch library's words in details.causes.
  HttpResponse with_cause;
  with_cause.status = 422;
  with_cause.body =
      R"({"kind":"Status","apiVersion":"v1","status":"Failure",)"
      R"("message":"the server rejected our request due to an error in our request",)"
      R"("reason":"Invalid","details":{"causes":[{"reason":"UnexpectedServerResponse",)"
      R"("message":"testing value /metadata/generation failed: test failed"}]},"code":422})";
  const Error error = ApiError(patch, with_cause);
  EXPECT_EQ(error.code, ErrorCode::kConflict);
  ExpectMentions(error, "testing value /metadata/generation failed");
  // An object the schema refuses names its fields: invalid, whatever the patch type.
  HttpResponse refused;
  refused.status = 422;
  refused.body = R"({"kind":"Status","apiVersion":"v1","status":"Failure",)"
                 R"("message":"ModelNode.ferry.dev \"n1\" is invalid: spec.models: Too many",)"
                 R"("reason":"Invalid","details":{"causes":[{"reason":"FieldValueTooMany",)"
                 R"("message":"Too many","field":"spec.models"}]},"code":422})";
  EXPECT_EQ(ApiError(patch, refused).code, ErrorCode::kInvalidArgument);
  const HttpRequest merge{"PATCH", "/apis/ferry.dev/v1alpha1/modelnodes/n1", "{}",
                          "application/merge-patch+json"};
  EXPECT_EQ(ApiError(merge, bare).code, ErrorCode::kInvalidArgument);
}

TEST(ApiError, GoneIsExpiredAndSaysToListAgain) {
  const Error error = ErrorFor(410, StatusBody(410, "Expired", "too old resource version"));
  EXPECT_EQ(error.code, ErrorCode::kExpired);
  ExpectMentions(error, "list again");
}

TEST(ApiError, ForbiddenIsPermissionDeniedWithRbacAdvice) {
  const Error error = ErrorFor(
      403, StatusBody(403, "Forbidden", "pods \"web-0\" is forbidden: User \"x\" cannot get"));
  EXPECT_EQ(error.code, ErrorCode::kPermissionDenied);
  ExpectMentions(error, "cannot get");
  ExpectMentions(error, "RBAC");
}

TEST(ApiError, UnauthorizedPointsAtTheCredentials) {
  const Error error = ErrorFor(401, StatusBody(401, "Unauthorized", "Unauthorized"));
  EXPECT_EQ(error.code, ErrorCode::kPermissionDenied);
  ExpectMentions(error, "credentials");
}

TEST(ApiError, InvalidObjectsAreInvalidArgument) {
  const Error error =
      ErrorFor(422, StatusBody(422, "Invalid", "ModelVersion.ferry.dev \"x\" is invalid: spec"));
  EXPECT_EQ(error.code, ErrorCode::kInvalidArgument);
  ExpectMentions(error, "is invalid");
  EXPECT_EQ(ErrorFor(400, StatusBody(400, "BadRequest", "bad selector")).code,
            ErrorCode::kInvalidArgument);
}

TEST(ApiError, OverloadAndServerErrorsAreUnavailable) {
  EXPECT_EQ(ErrorFor(503, StatusBody(503, "ServiceUnavailable", "etcd down")).code,
            ErrorCode::kUnavailable);
  EXPECT_EQ(ErrorFor(429, StatusBody(429, "TooManyRequests", "slow down")).code,
            ErrorCode::kUnavailable);
  EXPECT_EQ(ErrorFor(500, "").code, ErrorCode::kUnavailable);
}

TEST(ApiError, ABodyThatIsNotAStatusIsQuotedShort) {
  const Error error = ErrorFor(502, "<html>Bad Gateway</html>" + std::string(1000, 'x'));
  EXPECT_EQ(error.code, ErrorCode::kUnavailable);
  ExpectMentions(error, "HTTP 502");
  ExpectMentions(error, "<html>Bad Gateway</html>");
  EXPECT_LT(error.message.size(), 500u) << "the whole body was copied into the message";

  // JSON, but not a Status object: quoted like any other body.
  const Error json = ErrorFor(404, R"({"error":"no route"})");
  EXPECT_EQ(json.code, ErrorCode::kNotFound);
  ExpectMentions(json, "no route");
}

TEST(ApiError, AnUnexpectedStatusIsInternal) {
  EXPECT_EQ(ErrorFor(418, "").code, ErrorCode::kInternal);
}

// ----- retries -----

ScriptedAnswer Answer(int status, std::string body = "",
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
  ScriptedAnswer answer;
  answer.status = status;
  answer.body = std::move(body);
  answer.headers = std::move(headers);
  return answer;
}

const std::string kPod = R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-0"}})";

ClientOptions QuickRetries(int max_retries = 3) {
  ClientOptions options;
  options.qps = 0;
  options.max_retries = max_retries;
  options.retry_backoff.initial = milliseconds(10);
  options.retry_backoff.max = milliseconds(50);
  return options;
}

std::unique_ptr<Client> ClientFor(const std::string& server, ClientOptions options,
                                  std::string bearer_token = "") {
  ClusterConfig config;
  config.server = server;
  config.bearer_token = std::move(bearer_token);
  Result<std::unique_ptr<Client>> client = Client::Create(config, std::move(options));
  if (!client.ok()) ADD_FAILURE() << client.error().message;
  return client.ok() ? std::move(*client) : nullptr;
}

TEST(ClientRetry, TooManyRequestsWaitsForRetryAfterThenSucceeds) {
  ScriptedHttpServer server;
  server.Script(
      {Answer(429, StatusBody(429, "TooManyRequests", "slow down"), {{"Retry-After", "1"}}),
       Answer(200, kPod)});
  std::unique_ptr<Client> client = ClientFor(server.url(), QuickRetries());
  ASSERT_NE(client, nullptr);
  const auto start = steady_clock::now();
  Result<Json> pod = client->Get(types::Pods(), "shop", "web-0");
  const auto elapsed = steady_clock::now() - start;
  ASSERT_TRUE(pod.ok()) << pod.error().message;
  EXPECT_EQ(Name(*pod), "web-0");
  // The backoff alone would have waited 10 ms.
  EXPECT_GE(elapsed, milliseconds(1000));
  EXPECT_EQ(client->stats().retries, 1u);
  EXPECT_EQ(client->stats().requests, 2u);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(ClientRetry, AServerErrorOnCreateIsNotRetried) {
  ScriptedHttpServer server;
  server.Script({Answer(500, StatusBody(500, "InternalError", "etcd timeout")), Answer(201, kPod)});
  std::unique_ptr<Client> client = ClientFor(server.url(), QuickRetries());
  ASSERT_NE(client, nullptr);
  Result<Json> created =
      client->Create(types::ConfigMaps(), Json{{"metadata", {{"name", "settings"}}}});
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, ErrorCode::kUnavailable);
  ExpectMentions(created.error(), "etcd timeout");
  const std::vector<testing::RecordedRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 1u) << "a POST that may have been applied was sent again";
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/api/v1/namespaces/default/configmaps");
  EXPECT_EQ(Json::parse(requests[0].body)["metadata"]["name"], "settings");
  EXPECT_EQ(client->stats().retries, 0u);
}

TEST(ClientRetry, AServerErrorWithRetryAfterIsRetriedEvenOnCreate) {
  ScriptedHttpServer server;
  server.Script({Answer(503, "", {{"Retry-After", "0"}}), Answer(201, kPod)});
  std::unique_ptr<Client> client = ClientFor(server.url(), QuickRetries());
  ASSERT_NE(client, nullptr);
  Result<Json> created = client->Create(types::Pods(), Json::parse(kPod));
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(ClientRetry, AServerErrorOnGetIsRetried) {
  ScriptedHttpServer server;
  server.Script({Answer(500), Answer(502), Answer(200, kPod)});
  std::unique_ptr<Client> client = ClientFor(server.url(), QuickRetries());
  ASSERT_NE(client, nullptr);
  Result<Json> pod = client->Get(types::Pods(), "shop", "web-0");
  ASSERT_TRUE(pod.ok()) << pod.error().message;
  EXPECT_EQ(Name(*pod), "web-0");
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(client->stats().retries, 2u);
}

TEST(ClientRetry, AMergePatchIsNotRetriedButApplyIs) {
  ScriptedHttpServer server;
  server.Script({Answer(500), Answer(200, kPod)});
  std::unique_ptr<Client> client = ClientFor(server.url(), QuickRetries());
  ASSERT_NE(client, nullptr);
  Result<Json> patched = client->Patch(types::Pods(), "shop", "web-0", PatchType::kMerge,
                                       Json{{"metadata", {{"labels", {{"a", "b"}}}}}});
  EXPECT_FALSE(patched.ok());
  EXPECT_EQ(server.requests().size(), 1u);

  server.Script({Answer(500), Answer(200, kPod)});
  ApplyOptions apply;
  apply.field_manager = "ferry-test";
  Result<Json> applied = client->Apply(types::Pods(), Json::parse(kPod), apply);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(ClientRetry, GivesUpAfterMaxRetriesWithTheLastAnswer) {
  ScriptedHttpServer server;
  server.Script({Answer(503, StatusBody(503, "ServiceUnavailable", "still starting"))});
  std::unique_ptr<Client> client = ClientFor(server.url(), QuickRetries(/*max_retries=*/2));
  ASSERT_NE(client, nullptr);
  Result<Json> pod = client->Get(types::Pods(), "shop", "web-0");
  ASSERT_FALSE(pod.ok());
  EXPECT_EQ(pod.error().code, ErrorCode::kUnavailable);
  ExpectMentions(pod.error(), "HTTP 503");
  ExpectMentions(pod.error(), "still starting");
  EXPECT_EQ(server.requests().size(), 3u);  // the first try and two retries
  EXPECT_EQ(client->stats().retries, 2u);
}

TEST(ClientRetry, ARefusalThatRetryingCannotFixIsNotRetried) {
  ScriptedHttpServer server;
  server.Script({Answer(404, StatusBody(404, "NotFound", "pods \"web-0\" not found"))});
  std::unique_ptr<Client> client = ClientFor(server.url(), QuickRetries());
  ASSERT_NE(client, nullptr);
  Result<Json> pod = client->Get(types::Pods(), "shop", "web-0");
  ASSERT_FALSE(pod.ok());
  EXPECT_EQ(pod.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(server.requests().size(), 1u);
}

// The server closes idle keep-alive connections (as API servers and load
// balancers in front of them do); a request that is not retried must not
// fail just because the pooled connection it took had been closed.
TEST(ClientConnections, APostAfterTheServerClosedTheIdleConnectionSucceeds) {
  ScriptedHttpServer server(/*keep_alive_timeout=*/std::chrono::seconds(1));
  server.Script({Answer(200, kPod)});
  std::unique_ptr<Client> client = ClientFor(server.url(), QuickRetries());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Get(types::Pods(), "shop", "web-0").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  Result<Json> created = client->Create(types::Pods(), Json::parse(kPod));
  EXPECT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(server.requests().size(), 2u);
}

// A loopback port that nothing listens on (it was free a moment ago).
int UnusedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

TEST(ClientRetry, ARefusedConnectionOnGetIsRetriedThenUnavailableNamingTheServer) {
  const int port = UnusedPort();
  ASSERT_GT(port, 0);
  const std::string server = "http://127.0.0.1:" + std::to_string(port);
  std::unique_ptr<Client> client = ClientFor(server, QuickRetries(/*max_retries=*/2));
  ASSERT_NE(client, nullptr);
  Result<Json> pod = client->Get(types::Pods(), "shop", "web-0");
  ASSERT_FALSE(pod.ok());
  EXPECT_EQ(pod.error().code, ErrorCode::kUnavailable);
  ExpectMentions(pod.error(), server);
  ExpectMentions(pod.error(), "/api/v1/namespaces/shop/pods/web-0");
  ExpectMentions(pod.error(), "gave up after 3 attempts");
  EXPECT_EQ(client->stats().requests, 3u);
  EXPECT_EQ(client->stats().retries, 2u);
}

TEST(ClientRetry, ARefusedConnectionOnCreateIsNotRetried) {
  const int port = UnusedPort();
  ASSERT_GT(port, 0);
  std::unique_ptr<Client> client =
      ClientFor("http://127.0.0.1:" + std::to_string(port), QuickRetries());
  ASSERT_NE(client, nullptr);
  Result<Json> created = client->Create(types::Pods(), Json::parse(kPod));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(client->stats().requests, 1u);
}

// ----- answers -----

TEST(ClientList, FillsInApiVersionAndKindOfEachItem) {
  ScriptedHttpServer server;
  server.Script({Answer(200, R"({"kind":"PodList","apiVersion":"v1",
      "metadata":{"resourceVersion":"77","continue":"next-page"},
      "items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]})")});
  std::unique_ptr<Client> client = ClientFor(server.url(), QuickRetries());
  ASSERT_NE(client, nullptr);
  ListOptions options;
  options.label_selector = "app in (web,db)";
  options.limit = 2;
  Result<ObjectList> list = client->List(types::Pods(), "shop", options);
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_EQ(list->resource_version, "77");
  EXPECT_EQ(list->continue_token, "next-page");
  ASSERT_EQ(list->items.size(), 2u);
  EXPECT_EQ(list->items[1]["kind"], "Pod");
  EXPECT_EQ(list->items[1]["apiVersion"], "v1");
  const std::vector<testing::RecordedRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, "/api/v1/namespaces/shop/pods");
  ASSERT_EQ(requests[0].params.count("labelSelector"), 1u);
  EXPECT_EQ(requests[0].params.find("labelSelector")->second, "app in (web,db)");
  ASSERT_EQ(requests[0].params.count("limit"), 1u);
  EXPECT_EQ(requests[0].params.find("limit")->second, "2");
}

// An aggregated API server (or a proxy) may answer a list without ListMeta;
// that is an empty resourceVersion, not an exception.
TEST(ClientList, AListWithoutMetadataIsStillAList) {
  ScriptedHttpServer server;
  server.Script({Answer(200, R"({"kind":"PodList","items":[{"metadata":{"name":"a"}}]})")});
  std::unique_ptr<Client> client = ClientFor(server.url(), QuickRetries());
  ASSERT_NE(client, nullptr);
  std::optional<Result<ObjectList>> list;
  EXPECT_NO_THROW(list.emplace(client->List(types::Pods(), "shop")));
  ASSERT_TRUE(list.has_value());
  ASSERT_TRUE(list->ok()) << (*list).error().message;
  EXPECT_EQ((*list)->resource_version, "");
  EXPECT_EQ((*list)->items.size(), 1u);
}

TEST(ClientGet, AnAnswerThatIsNotJsonIsCorrupt) {
  ScriptedHttpServer server;
  server.Script({Answer(200, "<html>login page</html>")});
  std::unique_ptr<Client> client = ClientFor(server.url(), QuickRetries());
  ASSERT_NE(client, nullptr);
  Result<Json> pod = client->Get(types::Pods(), "shop", "web-0");
  ASSERT_FALSE(pod.ok());
  EXPECT_EQ(pod.error().code, ErrorCode::kCorrupt);
  ExpectMentions(pod.error(), "not JSON");
}

// ----- credentials on the wire -----

std::string Authorization(const testing::RecordedRequest& request) {
  const auto found = request.headers.find("Authorization");
  return found == request.headers.end() ? "(absent)" : found->second;
}

TEST(ClientAuthorization, SendsTheBearerToken) {
  ScriptedHttpServer server;
  server.Script({Answer(200, kPod)});
  std::unique_ptr<Client> client = ClientFor(server.url(), QuickRetries(), "s3cret");
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Get(types::Pods(), "shop", "web-0").ok());
  const std::vector<testing::RecordedRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(Authorization(requests[0]), "Bearer s3cret");
}

TEST(ClientAuthorization, SendsNoAuthorizationWithoutAToken) {
  ScriptedHttpServer server;
  server.Script({Answer(200, kPod)});
  std::unique_ptr<Client> client = ClientFor(server.url(), QuickRetries());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Get(types::Pods(), "shop", "web-0").ok());
  const std::vector<testing::RecordedRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(Authorization(requests[0]), "(absent)");
}

TEST(ClientAuthorization, ARotatedTokenFileIsPickedUpByTheNextRequest) {
  ferry::testing::TempDir dir;
  const std::filesystem::path token = dir / "token";
  std::ofstream(token) << "first\n";
  ScriptedHttpServer server;
  server.Script({Answer(200, kPod)});
  ClusterConfig config;
  config.server = server.url();
  config.token_file = token;
  Result<std::unique_ptr<Client>> client = Client::Create(config, QuickRetries());
  ASSERT_TRUE(client.ok()) << client.error().message;
  ASSERT_TRUE((*client)->Get(types::Pods(), "shop", "web-0").ok());
  std::ofstream(token, std::ios::trunc) << "second\n";
  std::filesystem::last_write_time(
      token, std::filesystem::file_time_type::clock::now() + std::chrono::seconds(5));
  ASSERT_TRUE((*client)->Get(types::Pods(), "shop", "web-0").ok());
  const std::vector<testing::RecordedRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(Authorization(requests[0]), "Bearer first");
  EXPECT_EQ(Authorization(requests[1]), "Bearer second");
}

TEST(ClientThrottle, ABurstPassesThenRequestsAreSpacedByTheQpsLimit) {
  ScriptedHttpServer server;
  ScriptedAnswer ok;
  ok.body = R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-0"}})";
  server.Script({ok});
  ClusterConfig config;
  config.server = server.url();
  ClientOptions options;
  options.qps = 20;
  options.burst = 5;
  Result<std::unique_ptr<Client>> client = Client::Create(config, options);
  ASSERT_TRUE(client) << client.error().message;
  const auto start = steady_clock::now();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*client)->Get(types::Pods(), "shop", "web-0"));
  EXPECT_EQ((*client)->stats().throttled_ms, 0u) << "the burst should pass unthrottled";
  for (int i = 0; i < 10; ++i) ASSERT_TRUE((*client)->Get(types::Pods(), "shop", "web-0"));
  // Ten requests beyond the burst at 20 per second take at least half a second.
  EXPECT_GE(steady_clock::now() - start, milliseconds(450));
  EXPECT_GT((*client)->stats().throttled_ms, 0u);
}

TEST(ClientMetrics, CountsEveryAttemptByVerbAndStatus) {
  MetricsRegistry registry;
  ClientMetrics metrics(registry);
  ScriptedHttpServer server;
  server.Script(
      {Answer(429, StatusBody(429, "TooManyRequests", "slow down"), {{"Retry-After", "0"}}),
       Answer(200, kPod)});
  ClientOptions options = QuickRetries();
  options.metrics = &metrics;
  std::unique_ptr<Client> client = ClientFor(server.url(), options);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Get(types::Pods(), "shop", "web-0"));
  const std::string text = registry.Render();
  EXPECT_NE(text.find("ferry_kube_requests_total{verb=\"GET\",code=\"429\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ferry_kube_requests_total{verb=\"GET\",code=\"200\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ferry_kube_request_retries_total 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ferry_kube_request_duration_seconds_count{verb=\"GET\"} 2\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace ferry::kube
