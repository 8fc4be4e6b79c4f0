#include "lib/fetch/http_source.h"

#include <httplib.h>
#include <openssl/x509.h>

#include <algorithm>
#include <string>

#include "lib/common/http_exchange.h"
#include "lib/common/sigpipe_guard.h"
#include "lib/common/version.h"
#include "lib/fetch/content_range.h"
#include "lib/fetch/relative_path.h"

namespace ferry::fetch {
namespace {

// A transport failure in words, and whether another attempt may get through.
Attempt TransportFailure(httplib::Error error, long verify_result, const std::string& url) {
  auto fail = [&](ErrorCode code, const std::string& what, bool transient) {
    return Attempt{MakeError(code, "GET " + url + ": " + what), transient};
  };
  switch (error) {
    case httplib::Error::SSLLoadingCerts:
      return fail(ErrorCode::kInvalidArgument,
                  "could not load the CA bundle (give a PEM file of certificates)", false);
    case httplib::Error::SSLServerVerification:
      return fail(ErrorCode::kInvalidArgument,
                  std::string("the server's certificate is not trusted (") +
                      X509_verify_cert_error_string(verify_result) +
                      "); pass the certificate authority that signed it as the CA bundle",
                  false);
    default:
      return fail(ErrorCode::kUnavailable, DescribeTransportError(error), true);
  }
}

// An answer other than 200, 206 or 416.
Attempt UnwantedAnswer(int status, std::chrono::milliseconds retry_after, const std::string& url) {
  const std::string what = "GET " + url + " answered HTTP " + std::to_string(status);
  if (status == 404) return {MakeError(ErrorCode::kNotFound, what + " (not found)")};
  if (status == 408 || status == 429 || status >= 500) {
    return {MakeError(ErrorCode::kUnavailable, what), true, false, retry_after};
  }
  if (status >= 300 && status < 400) {
    return {MakeError(ErrorCode::kInvalidArgument,
                      what + " (a redirect, which Ferry does not follow); give the final URL")};
  }
  return {MakeError(ErrorCode::kInvalidArgument,
                    what + "; check the repository URL and the server's access rules")};
}

// Decides what a download does with an answer to a request for the bytes from
// `start` on (everything when 0).
Status AcceptDownloadAnswer(const httplib::Response& answer, uint64_t start, PartialFile& file) {
  const std::optional<uint64_t> expected = file.expected_size();
  auto wrong_size = [&](uint64_t length) {
    return MakeError(ErrorCode::kCorrupt, "the server's file has " + std::to_string(length) +
                                              " bytes, expected " + std::to_string(*expected));
  };
  if (answer.status == 200) {
    if (expected && answer.has_header("Content-Length") &&
        answer.get_header_value<uint64_t>("Content-Length") != *expected) {
      return wrong_size(answer.get_header_value<uint64_t>("Content-Length"));
    }
    // The whole file is coming (the server ignores Range): start over.
    return start > 0 ? file.Restart() : OkStatus();
  }

  const std::string header = answer.get_header_value("Content-Range");
  const std::optional<ContentRange> range = ParseContentRange(header);
  if (answer.status == 206) {
    if (!range || !range->first) {
      return MakeError(ErrorCode::kCorrupt, "answered 206 with Content-Range \"" + header +
                                                "\", which is not a single byte range");
    }
    if (*range->first != start) {
      return MakeError(ErrorCode::kCorrupt, "sent bytes from " + std::to_string(*range->first) +
                                                " when asked for bytes from " +
                                                std::to_string(start));
    }
    if (expected && range->length && *range->length != *expected) {
      return wrong_size(*range->length);
    }
    return OkStatus();
  }

  // 416: nothing lies at or after `start`. Done if the file ends there;
  // otherwise what is here is not a prefix of the server's file.
  const std::optional<uint64_t> length = range ? range->length : expected;
  if (length == start) return OkStatus();
  if (Status restarted = file.Restart(); !restarted) return restarted;
  return MakeError(ErrorCode::kUnavailable, "the server's file is shorter than the " +
                                                std::to_string(start) +
                                                " bytes already downloaded; starting over");
}

}  // namespace

Result<std::unique_ptr<Source>> HttpSource::Open(std::string_view url,
                                                 const FetchOptions& options) {
  const size_t authority = url.find("://") + 3;
  const size_t path = std::min(url.find('/', authority), url.size());
  if (path == authority || url.find_first_of("?#") != std::string_view::npos) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "repository URL " + std::string(url) + " is not of the form http(s)://host[:port][/path]");
  }
  std::string base_path(url.substr(path));
  while (base_path.ends_with('/')) base_path.pop_back();
  std::error_code error;
  if (!options.ca_bundle.empty() && !std::filesystem::is_regular_file(options.ca_bundle, error)) {
    return MakeError(ErrorCode::kNotFound,
                     "CA bundle " + options.ca_bundle.string() +
                         " does not exist; give a PEM file of trusted certificate authorities");
  }
  return std::unique_ptr<Source>(
      std::make_unique<HttpSource>(std::string(url.substr(0, path)), base_path, options));
}

HttpSource::HttpSource(std::string origin, std::string base_path, FetchOptions options)
    : origin_(std::move(origin)),
      base_path_(std::move(base_path)),
      options_(std::move(options)),
      limiter_(options_.bandwidth_limit),
      watchdog_(options_.low_speed_limit, options_.low_speed_time) {}

HttpSource::~HttpSource() {
  SigpipeGuard guard;  // closing a kept-alive TLS connection writes to it
  idle_.clear();
}

Result<std::string> HttpSource::ReadSmall(std::string_view relative_path, uint64_t max_bytes) {
  if (Status valid = ValidateRelativePath(relative_path); !valid) return valid.error();
  const std::string target = base_path_ + "/" + std::string(relative_path);
  auto too_large = [&]() -> Status {
    return MakeError(ErrorCode::kInvalidArgument,
                     "larger than the " + std::to_string(max_bytes) + " bytes allowed for it");
  };
  std::string contents;
  Status done = RunWithRetries(options_, [&] {
    contents.clear();
    return Get(
        target, std::nullopt,
        [&](const httplib::Response& answer) -> Status {
          if (answer.status != 200) {
            return MakeError(ErrorCode::kCorrupt, "answered HTTP " + std::to_string(answer.status) +
                                                      " to a request for the whole file");
          }
          const bool fits = !answer.has_header("Content-Length") ||
                            answer.get_header_value<uint64_t>("Content-Length") <= max_bytes;
          return fits ? OkStatus() : too_large();
        },
        [&](std::string_view data) -> Status {
          contents.append(data);
          return contents.size() <= max_bytes ? OkStatus() : too_large();
        });
  });
  if (!done) return done.error();
  return contents;
}

Status HttpSource::FetchToFile(std::string_view relative_path,
                               const std::filesystem::path& destination,
                               std::optional<uint64_t> expected_size, Progress* progress) {
  if (Status valid = ValidateRelativePath(relative_path); !valid) return valid;
  Result<PartialFile> file = PartialFile::Open(destination, expected_size);
  if (!file) return file.error();
  if (progress != nullptr) progress->Add(file->size());
  const std::string target = base_path_ + "/" + std::string(relative_path);
  // Progress means reaching further than ever before, so that a server which
  // keeps starting over (or a retry) cannot keep the count from running out;
  // and by at least what the low-speed limit asks of one window, so that a
  // server which sends a few bytes per connection cannot either.
  const uint64_t quantum = std::max<uint64_t>(
      1, options_.low_speed_limit *
             static_cast<uint64_t>(std::max<int64_t>(0, options_.low_speed_time.count())));
  uint64_t furthest = file->size();
  return RunWithRetries(
      options_,
      [&] {
        Attempt attempt = FetchAttempt(target, *file, progress);
        attempt.made_progress = file->size() >= furthest + quantum;
        if (attempt.made_progress) furthest = file->size();
        return attempt;
      },
      progress != nullptr ? progress->stop_token() : std::stop_token());
}

Attempt HttpSource::FetchAttempt(const std::string& target, PartialFile& file, Progress* progress) {
  const uint64_t start = file.size();
  Attempt attempt = Get(
      target, start > 0 ? std::optional(start) : std::nullopt,
      [&](const httplib::Response& answer) { return AcceptDownloadAnswer(answer, start, file); },
      [&](std::string_view data) -> Status {
        if (Status appended = file.Append(data); !appended) return appended;
        if (progress != nullptr) {
          progress->Add(data.size());
          if (progress->stop_requested()) return MakeError(ErrorCode::kCancelled, "cancelled");
        }
        return OkStatus();
      });
  if (!attempt.status.ok()) return attempt;
  return {file.CheckComplete("GET " + origin_ + target)};
}

Attempt HttpSource::Get(const std::string& target, std::optional<uint64_t> range_start,
                        const std::function<Status(const httplib::Response&)>& on_answer,
                        const std::function<Status(std::string_view)>& on_body) {
  // A server that closed our kept-alive connection must fail the write, not kill us.
  SigpipeGuard guard;
  const std::string url = origin_ + target;
  // Identity: a compressed answer would make byte offsets meaningless for Range.
  httplib::Headers headers = {{"Accept-Encoding", "identity"},
                              {"User-Agent", std::string("ferry/") + kVersion}};
  if (range_start) headers.emplace("Range", "bytes=" + std::to_string(*range_start) + "-");

  PooledClient pooled = TakeClient();
  httplib::Client& client = *pooled.client;
  const std::unique_ptr<LowSpeedWatchdog::Transfer> watch = watchdog_.Watch(pooled.socket);
  int status = 0;
  std::chrono::milliseconds retry_after{0};
  Status stopped;
  const httplib::Result result = client.Get(
      target, headers,
      [&](const httplib::Response& answer) {
        status = answer.status;
        retry_after = RetryAfterSeconds(answer).value_or(std::chrono::seconds(0));
        if (status != 200 && status != 206 && status != 416) return false;
        stopped = on_answer(answer);
        return stopped.ok();
      },
      [&](const char* data, size_t size) {
        if (watch) watch->Arrived(size);
        if (status == 416) return true;  // an explanation, not file bytes
        if (options_.bandwidth_limit > 0 && watch) {
          watch->Pause();
          limiter_.Acquire(size);
          watch->Resume();
        } else {
          limiter_.Acquire(size);
        }
        stopped = on_body({data, size});
        return stopped.ok();
      });

  // The watchdog shut the socket down: that, not the broken read it caused,
  // is what happened. An exchange that still ended well keeps its bytes, but
  // its connection is gone.
  const std::optional<std::string> too_slow = watch ? watch->verdict() : std::nullopt;
  if (too_slow && (result.error() != httplib::Error::Success || !stopped.ok())) {
    return {MakeError(ErrorCode::kUnavailable, "GET " + url + ": the transfer " + *too_slow +
                                                   "; the server or the link is too slow, or "
                                                   "the low-speed limit too high for it"),
            true};
  }
  if (!stopped.ok()) {
    const bool transient = stopped.error().code == ErrorCode::kUnavailable;
    return {stopped.error().Wrap("GET " + url), transient};
  }
  if (status != 0 && status != 200 && status != 206 && status != 416) {
    return UnwantedAnswer(status, retry_after, url);
  }
  if (result.error() != httplib::Error::Success) {
    const long verify_result = result.error() == httplib::Error::SSLServerVerification
                                   ? client.get_openssl_verify_result()
                                   : 0;
    return TransportFailure(result.error(), verify_result, url);
  }
  if (!too_slow) ReturnClient(std::move(pooled));
  return {OkStatus()};
}

HttpSource::PooledClient HttpSource::TakeClient() {
  {
    std::lock_guard lock(pool_mutex_);
    if (!idle_.empty()) {
      PooledClient pooled = std::move(idle_.back());
      idle_.pop_back();
      return pooled;
    }
  }
  auto socket = std::make_shared<LowSpeedWatchdog::Socket>();
  auto client = std::make_unique<httplib::Client>(origin_);
  client->set_socket_options([socket](int fd) { socket->Adopt(fd); });
  client->set_connection_timeout(options_.connect_timeout);
  client->set_read_timeout(options_.read_timeout);
  client->set_write_timeout(options_.read_timeout);
  client->set_keep_alive(true);
  if (!options_.ca_bundle.empty()) client->set_ca_cert_path(options_.ca_bundle.string());
  return {std::move(client), std::move(socket)};
}

void HttpSource::ReturnClient(PooledClient client) {
  std::lock_guard lock(pool_mutex_);
  idle_.push_back(std::move(client));
}

}  // namespace ferry::fetch
