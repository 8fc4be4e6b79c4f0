#include "lib/fetch/server.h"

#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include "lib/common/file.h"
#include "lib/fetch/bounded_http_server.h"
#include "lib/fetch/relative_path.h"

namespace ferry::fetch {
namespace {

// Bytes read from disk per write to the socket.
constexpr size_t kStreamPiece = 256 << 10;

// The first and last byte (inclusive) that `asked` selects in a file of
// `size` bytes, or nullopt when it selects none. httplib marks a missing
// number in "bytes=A-" or "bytes=-N" with -1.
std::optional<std::pair<ssize_t, ssize_t>> Satisfiable(const httplib::Range& asked, ssize_t size) {
  if (size == 0) return std::nullopt;
  if (asked.first < 0) {  // the last N bytes
    if (asked.second <= 0) return std::nullopt;
    return std::pair(size - std::min(asked.second, size), size - 1);
  }
  if (asked.first >= size) return std::nullopt;
  return std::pair(asked.first, asked.second < 0 ? size - 1 : std::min(asked.second, size - 1));
}

void Refuse(httplib::Response& response, int status, const std::string& text) {
  response.status = status;
  response.set_content(text + "\n", "text/plain");
}

void Serve(const std::filesystem::path& root, const httplib::Request& request,
           httplib::Response& response) {
  // httplib 0.11.4 applies a parsed Range to whatever the handler answers
  // without checking it against the file: a range reaching past the end gets
  // a wrong Content-Length and a broken body, and even an error page gets
  // sliced. So the handler takes the ranges out of the request (which httplib
  // owns mutably; only its handler interface is const) and puts back only a
  // single range that lies within the file, which httplib then answers
  // correctly with 206 and Content-Range.
  httplib::Ranges& ranges = const_cast<httplib::Request&>(request).ranges;
  const httplib::Ranges asked = std::exchange(ranges, {});

  const std::string_view path = request.path;
  if (!path.starts_with('/')) return Refuse(response, 403, "forbidden");
  Result<std::filesystem::path> file = ResolveFile(root, path.substr(1));
  if (!file) {
    return file.error().code == ErrorCode::kNotFound ? Refuse(response, 404, "not found")
                                                     : Refuse(response, 403, "forbidden");
  }
  Result<UniqueFd> opened = OpenForRead(*file);
  struct stat info {};
  if (!opened || ::fstat(opened->get(), &info) != 0) return Refuse(response, 404, "not found");
  const ssize_t size = info.st_size;

  response.set_header("Accept-Ranges", "bytes");
  if (asked.size() == 1) {
    const std::optional<std::pair<ssize_t, ssize_t>> range = Satisfiable(asked.front(), size);
    if (!range) {
      response.status = 416;
      response.set_header("Content-Range", "bytes */" + std::to_string(size));
      return;
    }
    ranges = {*range};
  }
  if (size == 0) {
    // An empty provider would leave Content-Length out; an empty body sets it.
    response.set_content("", "application/octet-stream");
    return;
  }
  auto fd = std::make_shared<UniqueFd>(std::move(*opened));
  response.set_content_provider(static_cast<size_t>(size), "application/octet-stream",
                                [fd](size_t offset, size_t length, httplib::DataSink& sink) {
                                  std::vector<char> buffer(std::min(length, kStreamPiece));
                                  const ssize_t n = ::pread(fd->get(), buffer.data(), buffer.size(),
                                                            static_cast<off_t>(offset));
                                  // A read error or a file that shrank ends the connection; the
                                  // client sees an answer shorter than its Content-Length and
                                  // knows.
                                  return n > 0 && sink.write(buffer.data(), static_cast<size_t>(n));
                                });
}

}  // namespace

Result<std::unique_ptr<RepositoryServer>> RepositoryServer::Start(
    const std::filesystem::path& root, const std::string& host, int port,
    std::shared_ptr<spdlog::logger> log, const ClientLimits& limits) {
  std::error_code error;
  std::filesystem::path canonical = std::filesystem::canonical(root, error);
  if (error || !std::filesystem::is_directory(canonical, error)) {
    return MakeError(ErrorCode::kNotFound,
                     "repository folder " + root.string() + " does not exist or is not a folder");
  }

  Result<std::unique_ptr<BoundedHttpServer>> server = BoundedHttpServer::Create(limits, log);
  if (!server) return server.error();
  (*server)->Get(".*", [canonical](const httplib::Request& request, httplib::Response& response) {
    Serve(canonical, request, response);
  });
  if (log != nullptr) {
    (*server)->set_logger(
        [log](const httplib::Request& request, const httplib::Response& response) {
          const std::string range = request.get_header_value("Range");
          log->info("{} {} {} {} {}{}", request.remote_addr, request.method, request.path,
                    response.status, response.get_header_value("Content-Length"),
                    range.empty() ? "" : " range " + range);
        });
  }
  BoundedHttpServer& bounded = **server;
  Result<std::unique_ptr<HttpListener>> listener =
      HttpListener::Start(std::move(*server), {host, port});
  if (!listener) return listener.error();
  bounded.RaiseListenBacklog();  // owned by the listener now, which nothing can stop yet
  return std::make_unique<RepositoryServer>(StartOnly(), std::move(*listener));
}

RepositoryServer::RepositoryServer(StartOnly, std::unique_ptr<HttpListener> listener)
    : listener_(std::move(listener)) {}

RepositoryServer::~RepositoryServer() = default;

void RepositoryServer::Stop() { listener_->Stop(); }

void RepositoryServer::Wait() { listener_->Wait(); }

}  // namespace ferry::fetch
