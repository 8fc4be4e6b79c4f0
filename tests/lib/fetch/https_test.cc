// HTTPS with a certificate made for the test: trusted through the CA bundle
// option, refused (and not retried) without it.
#include <gtest/gtest.h>

#include "lib/common/file.h"
#include "lib/fetch/source.h"
#include "tests/lib/fetch/test_server.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace ferry::fetch {
namespace {

using testing::TestServer;

class HttpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ferry::testing::ProcessResult made = ferry::testing::RunProcess(
        {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", (dir_ / "key.pem").string(), "-out", (dir_ / "cert.pem").string()});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    server_ = std::make_unique<TestServer>(dir_ / "cert.pem", dir_ / "key.pem");
    server_->server().Get("/repo/blob",
                          [this](const httplib::Request&, httplib::Response& response) {
                            ++requests_;
                            response.set_content("over tls", "application/octet-stream");
                          });
    server_->Start();
  }

  ferry::testing::TempDir dir_;
  std::atomic<int> requests_ = 0;
  std::unique_ptr<TestServer> server_;
};

TEST_F(HttpsTest, TrustsTheServerThroughTheCaBundle) {
  FetchOptions options;
  options.ca_bundle = dir_ / "cert.pem";
  Result<std::unique_ptr<Source>> source = OpenSource(server_->url() + "/repo", options);
  ASSERT_TRUE(source.ok()) << source.error().message;
  Status status = (*source)->FetchToFile("blob", dir_ / "out", 8, nullptr);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(*ReadFileToString(dir_ / "out"), "over tls");
}

TEST_F(HttpsTest, RefusesAnUntrustedCertificateWithoutRetrying) {
  Result<std::unique_ptr<Source>> source = OpenSource(server_->url() + "/repo");
  ASSERT_TRUE(source.ok()) << source.error().message;
  Result<std::string> read = (*source)->ReadSmall("blob");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(read.error().message.find("certificate is not trusted"), std::string::npos)
      << read.error().message;
  EXPECT_EQ(read.error().message.find("attempts"), std::string::npos) << "tried once only";
  EXPECT_EQ(requests_, 0);
}

}  // namespace
}  // namespace ferry::fetch
