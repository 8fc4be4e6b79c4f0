// A watch against a scripted HTTP server: events are cut from the byte stream
// at line ends whatever the chunking, the resourceVersion to resume from
// follows every event, and each way a watch ends (server done, 410, refusal,
// silence, Cancel, the handler saying stop) gives the status watch.h promises.
#include "lib/kube/watch.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "tests/lib/kube/scripted_http_server.h"

namespace ferry::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using testing::ErrorLine;
using testing::ScriptedAnswer;
using testing::ScriptedHttpServer;
using testing::StatusBody;
using testing::WatchLine;

// Far above what any of these watches needs on a loaded machine; only a watch
// that does not end when it should comes near it.
constexpr seconds kPrompt(10);

WatchOptions StartingAt(const std::string& resource_version) {
  WatchOptions options;
  options.resource_version = resource_version;
  return options;
}

WatchOptions IdleTimeout(seconds idle_timeout) {
  WatchOptions options;
  options.idle_timeout = idle_timeout;
  return options;
}

class WatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClusterConfig config;
    config.server = server_.url();
    ClientOptions options;
    options.qps = 0;
    Result<std::unique_ptr<Client>> client = Client::Create(config, options);
    ASSERT_TRUE(client.ok()) << client.error().message;
    client_ = std::move(*client);
  }

  // Runs a watch of pods in "shop", collecting every event.
  Status RunWatch(WatchOptions options, std::vector<WatchEvent>& events,
                  std::string* last_resource_version = nullptr) {
    Watch watch(*client_, types::Pods(), "shop", std::move(options));
    Status status = watch.Run([&](WatchEvent&& event) {
      events.push_back(std::move(event));
      return true;
    });
    if (last_resource_version != nullptr) *last_resource_version = watch.last_resource_version();
    return status;
  }

  static std::vector<std::string> Names(const std::vector<WatchEvent>& events) {
    std::vector<std::string> names;
    for (const WatchEvent& event : events) names.push_back(Name(event.object));
    return names;
  }

  ScriptedHttpServer server_;
  std::unique_ptr<Client> client_;
};

TEST_F(WatchTest, EventsSplitAcrossChunksArriveWholeAndInOrder) {
  const std::string a = WatchLine("ADDED", "a", "10");
  const std::string b = WatchLine("MODIFIED", "b", "11");
  const std::string c = WatchLine("DELETED", "c", "12");
  const std::string d = WatchLine("ADDED", "d", "13");
  const std::string e = WatchLine("MODIFIED", "e", "14");
  ScriptedAnswer stream;
  stream.chunks = {
      a.substr(0, 7),                           // mid-way through the first line
      a.substr(7) + b.substr(0, b.size() / 2),  // its end and half of the next
      b.substr(b.size() / 2) + c + d,           // the rest and two whole lines
      e.substr(0, e.size() - 1),                // all but the newline
      "\n",                                     // ...which comes alone
      "\n",                                     // a blank line is no event
  };
  stream.pause = milliseconds(20);  // so the pieces reach the client apart
  server_.Script({stream});

  std::vector<WatchEvent> events;
  std::string last_resource_version;
  Status status = RunWatch({}, events, &last_resource_version);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(Names(events), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].type, WatchEventType::kAdded);
  EXPECT_EQ(events[1].type, WatchEventType::kModified);
  EXPECT_EQ(events[2].type, WatchEventType::kDeleted);
  EXPECT_EQ(last_resource_version, "14");
  // Watch events carry no apiVersion/kind of their own; the watch fills them in.
  EXPECT_EQ(events[0].object["apiVersion"], "v1");
  EXPECT_EQ(events[0].object["kind"], "Pod");
}

// The premise of the test above: the client really is handed lines in pieces.
TEST_F(WatchTest, TheScriptedChunksReachTheClientAsSeparatePieces) {
  const std::string line = WatchLine("ADDED", "a", "10");
  ScriptedAnswer stream;
  stream.chunks = {line.substr(0, 7), line.substr(7)};
  stream.pause = milliseconds(20);
  server_.Script({stream});
  std::unique_ptr<Transport::Stream> raw = client_->transport().NewStream();
  std::vector<std::string> pieces;
  Result<HttpResponse> answer =
      raw->Run({"GET", "/api/v1/pods?watch=true", "", ""}, seconds(10), [&](std::string_view data) {
        pieces.emplace_back(data);
        return true;
      });
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(pieces, (std::vector<std::string>{line.substr(0, 7), line.substr(7)}));
}

TEST_F(WatchTest, ABookmarkIsDeliveredAndMovesTheResourceVersion) {
  ScriptedAnswer stream;
  stream.chunks = {WatchLine("ADDED", "a", "5"), WatchLine("BOOKMARK", "", "9")};
  server_.Script({stream});
  Watch watch(*client_, types::Pods(), "shop", {});
  std::vector<WatchEvent> events;
  std::vector<std::string> versions_seen;  // last_resource_version as each event arrives
  Status status = watch.Run([&](WatchEvent&& event) {
    versions_seen.push_back(watch.last_resource_version());
    events.push_back(std::move(event));
    return true;
  });
  ASSERT_TRUE(status.ok()) << status.error().message;
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, WatchEventType::kAdded);
  EXPECT_EQ(events[1].type, WatchEventType::kBookmark);
  EXPECT_EQ(ResourceVersionOf(events[1].object), "9");
  EXPECT_EQ(versions_seen, (std::vector<std::string>{"5", "9"}));
  EXPECT_EQ(watch.last_resource_version(), "9");
  EXPECT_EQ(watch.events(), 2u);
}

TEST_F(WatchTest, WithoutEventsTheResourceVersionStaysWhereItStarted) {
  ScriptedAnswer empty;
  empty.chunks = {"\n"};
  server_.Script({empty});
  std::vector<WatchEvent> events;
  std::string last_resource_version;
  Status status = RunWatch(StartingAt("100"), events, &last_resource_version);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(last_resource_version, "100");
}

TEST_F(WatchTest, TheRequestCarriesTheWatchParameters) {
  ScriptedAnswer empty;
  empty.chunks = {"\n"};
  server_.Script({empty});
  std::vector<WatchEvent> events;
  WatchOptions options;
  options.resource_version = "100";
  options.label_selector = "app=web,tier!=db";
  options.field_selector = "spec.nodeName=node-1";
  options.server_timeout = seconds(120);
  Status status = RunWatch(options, events);
  ASSERT_TRUE(status.ok()) << status.error().message;
  const std::vector<testing::RecordedRequest> requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  const testing::RecordedRequest& request = requests[0];
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.path, "/api/v1/namespaces/shop/pods");
  const auto param = [&](const std::string& name) {
    const auto found = request.params.find(name);
    return found == request.params.end() ? std::string("(absent)") : found->second;
  };
  EXPECT_EQ(param("watch"), "true");
  EXPECT_EQ(param("allowWatchBookmarks"), "true");
  EXPECT_EQ(param("resourceVersion"), "100");
  EXPECT_EQ(param("labelSelector"), "app=web,tier!=db");
  EXPECT_EQ(param("fieldSelector"), "spec.nodeName=node-1");
  EXPECT_EQ(param("timeoutSeconds"), "120");
  // The selector's '=', ',' and '!' travel percent-encoded.
  EXPECT_NE(request.target.find("labelSelector=app%3Dweb%2Ctier%21%3Ddb"), std::string::npos)
      << request.target;
}

TEST_F(WatchTest, OptionalParametersAreLeftOutWhenUnset) {
  ScriptedAnswer empty;
  empty.chunks = {"\n"};
  server_.Script({empty});
  WatchOptions options;
  options.allow_bookmarks = false;
  Watch watch(*client_, types::Nodes(), "", options);
  Status status = watch.Run([](WatchEvent&&) { return true; });
  ASSERT_TRUE(status.ok()) << status.error().message;
  const std::vector<testing::RecordedRequest> requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].path, "/api/v1/nodes");
  EXPECT_EQ(requests[0].params.count("watch"), 1u);
  EXPECT_EQ(requests[0].params.count("allowWatchBookmarks"), 0u);
  EXPECT_EQ(requests[0].params.count("resourceVersion"), 0u);
  EXPECT_EQ(requests[0].params.count("labelSelector"), 0u);
  EXPECT_EQ(requests[0].params.count("timeoutSeconds"), 1u);
}

TEST_F(WatchTest, AnErrorEventWith410IsExpired) {
  ScriptedAnswer stream;
  stream.chunks = {WatchLine("ADDED", "a", "5"),
                   ErrorLine(410, "Expired", "too old resource version: 5 (900)"),
                   WatchLine("ADDED", "after-the-error", "6")};
  server_.Script({stream});
  std::vector<WatchEvent> events;
  Status status = RunWatch(StartingAt("5"), events);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kExpired) << status.error().message;
  EXPECT_NE(status.error().message.find("too old resource version"), std::string::npos)
      << status.error().message;
  EXPECT_EQ(Names(events), (std::vector<std::string>{"a"}));  // nothing after the error
}

TEST_F(WatchTest, AnErrorEventWithAServerErrorIsUnavailable) {
  ScriptedAnswer stream;
  stream.chunks = {ErrorLine(500, "InternalError", "etcd leader changed")};
  server_.Script({stream});
  std::vector<WatchEvent> events;
  Status status = RunWatch({}, events);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kUnavailable) << status.error().message;
}

TEST_F(WatchTest, ALineThatIsNotJsonEndsTheWatch) {
  ScriptedAnswer stream;
  stream.chunks = {WatchLine("ADDED", "a", "5"), "<html>proxy error</html>\n",
                   WatchLine("ADDED", "b", "6")};
  server_.Script({stream});
  std::vector<WatchEvent> events;
  Status status = RunWatch({}, events);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(status.error().message.find("not JSON"), std::string::npos) << status.error().message;
  EXPECT_EQ(Names(events), (std::vector<std::string>{"a"}));
}

// Lines that are JSON but not a watch event (a proxy's error, a truncated
// frame) end the watch with an error, as the header comment promises, rather
// than with an exception out of Run.
TEST_F(WatchTest, AMalformedErrorEventEndsTheWatchWithAnError) {
  for (const std::string line : {R"({"type":"ERROR"})", R"({"type":"ERROR","object":"gone"})",
                                 R"({"type":"ERROR","object":{"code":"410"}})"}) {
    ScriptedAnswer stream;
    stream.chunks = {line + "\n"};
    server_.Script({stream});
    std::vector<WatchEvent> events;
    Status status = Status(MakeError(ErrorCode::kInternal, "Run threw"));
    EXPECT_NO_THROW(status = RunWatch({}, events)) << line;
    EXPECT_FALSE(status.ok()) << line;
  }
}

TEST_F(WatchTest, AnEventWhoseTypeIsNotAStringEndsTheWatchWithAnError) {
  ScriptedAnswer stream;
  stream.chunks = {R"({"type":7,"object":{"metadata":{"name":"a"}}})"
                   "\n"};
  server_.Script({stream});
  std::vector<WatchEvent> events;
  Status status = Status(MakeError(ErrorCode::kInternal, "Run threw"));
  EXPECT_NO_THROW(status = RunWatch({}, events));
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(events.empty());
}

TEST_F(WatchTest, AConnectionThatBreaksMidStreamIsUnavailable) {
  ScriptedAnswer stream;
  stream.chunks = {WatchLine("ADDED", "a", "5"), WatchLine("ADDED", "b", "6").substr(0, 10)};
  stream.break_off = true;
  server_.Script({stream});
  std::vector<WatchEvent> events;
  std::string last_resource_version;
  Status status = RunWatch({}, events, &last_resource_version);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kUnavailable) << status.error().message;
  EXPECT_EQ(Names(events), (std::vector<std::string>{"a"}));
  EXPECT_EQ(last_resource_version, "5");  // where a reconnect resumes
}

TEST_F(WatchTest, AnUnknownEventTypeEndsTheWatch) {
  ScriptedAnswer stream;
  stream.chunks = {WatchLine("RENAMED", "a", "5")};
  server_.Script({stream});
  std::vector<WatchEvent> events;
  Status status = RunWatch({}, events);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("RENAMED"), std::string::npos) << status.error().message;
  EXPECT_TRUE(events.empty());
}

TEST_F(WatchTest, A410AnswerIsExpired) {
  ScriptedAnswer gone;
  gone.status = 410;
  gone.body = StatusBody(410, "Expired", "too old resource version: 5 (900)");
  server_.Script({gone});
  std::vector<WatchEvent> events;
  Status status = RunWatch(StartingAt("5"), events);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kExpired) << status.error().message;
  EXPECT_NE(status.error().message.find("HTTP 410"), std::string::npos) << status.error().message;
  EXPECT_NE(status.error().message.find("too old resource version: 5 (900)"), std::string::npos)
      << status.error().message;
  EXPECT_TRUE(events.empty());
}

TEST_F(WatchTest, A403AnswerIsPermissionDeniedWithRbacAdvice) {
  ScriptedAnswer forbidden;
  forbidden.status = 403;
  forbidden.body = StatusBody(403, "Forbidden",
                              "pods is forbidden: User \"system:serviceaccount:ferry:agent\" "
                              "cannot watch resource \"pods\"");
  server_.Script({forbidden});
  std::vector<WatchEvent> events;
  Status status = RunWatch({}, events);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kPermissionDenied) << status.error().message;
  EXPECT_NE(status.error().message.find("cannot watch resource"), std::string::npos)
      << status.error().message;
  EXPECT_NE(status.error().message.find("RBAC"), std::string::npos) << status.error().message;
}

TEST_F(WatchTest, ASilentConnectionIsUnavailableAfterTheIdleTimeout) {
  ScriptedAnswer silent;
  silent.chunks = {WatchLine("ADDED", "a", "5")};
  silent.hold_open = true;
  server_.Script({silent});
  std::vector<WatchEvent> events;
  const auto start = steady_clock::now();
  Status status = RunWatch(IdleTimeout(seconds(1)), events);
  const auto elapsed = steady_clock::now() - start;
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kUnavailable) << status.error().message;
  EXPECT_EQ(Names(events), (std::vector<std::string>{"a"}));
  EXPECT_GE(elapsed, milliseconds(500)) << "gave up before the idle timeout";
  EXPECT_LT(elapsed, kPrompt);
}

TEST_F(WatchTest, CancelFromAnotherThreadEndsASilentWatchWithOk) {
  ScriptedAnswer silent;
  silent.chunks = {WatchLine("ADDED", "a", "5")};
  silent.hold_open = true;
  server_.Script({silent});
  Watch watch(*client_, types::Pods(), "shop", IdleTimeout(seconds(60)));
  std::promise<void> first_event;
  std::future<Status> ran = std::async(std::launch::async, [&] {
    return watch.Run([&](WatchEvent&&) {
      first_event.set_value();
      return true;
    });
  });
  ASSERT_EQ(first_event.get_future().wait_for(kPrompt), std::future_status::ready);
  const auto cancelled_at = steady_clock::now();
  std::thread([&] { watch.Cancel(); }).join();
  ASSERT_EQ(ran.wait_for(kPrompt), std::future_status::ready) << "Cancel did not end the watch";
  EXPECT_LT(steady_clock::now() - cancelled_at, kPrompt);
  Status status = ran.get();
  EXPECT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(watch.last_resource_version(), "5");
}

TEST_F(WatchTest, AWatchCancelledBeforeItRunsReturnsAtOnce) {
  ScriptedAnswer silent;
  silent.hold_open = true;
  silent.chunks = {"\n"};
  server_.Script({silent});
  Watch watch(*client_, types::Pods(), "shop", IdleTimeout(seconds(60)));
  watch.Cancel();
  const auto start = steady_clock::now();
  Status status = watch.Run([](WatchEvent&&) { return true; });
  EXPECT_TRUE(status.ok()) << status.error().message;
  EXPECT_LT(steady_clock::now() - start, kPrompt);
}

TEST_F(WatchTest, AHandlerReturningFalseEndsTheWatchWithOk) {
  ScriptedAnswer stream;
  stream.chunks = {WatchLine("ADDED", "a", "5") + WatchLine("ADDED", "b", "6") +
                   WatchLine("ADDED", "c", "7")};
  stream.hold_open = true;  // so only the handler can end it promptly
  server_.Script({stream});
  Watch watch(*client_, types::Pods(), "shop", IdleTimeout(seconds(60)));
  std::vector<std::string> names;
  const auto start = steady_clock::now();
  Status status = watch.Run([&](WatchEvent&& event) {
    names.push_back(Name(event.object));
    return false;
  });
  EXPECT_TRUE(status.ok()) << status.error().message;
  EXPECT_LT(steady_clock::now() - start, kPrompt);
  EXPECT_EQ(names, (std::vector<std::string>{"a"}));  // b and c, in the same chunk, are not
  EXPECT_EQ(watch.last_resource_version(), "5");
}

}  // namespace
}  // namespace ferry::kube
