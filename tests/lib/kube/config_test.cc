// Cluster configuration: kubeconfig parsing and merging, the in-cluster
// service account, the rotating token file, and the checks Transport::Create
// makes on certificates and keys before anything is contacted. Base64 is here
// too, since kubeconfig `*-data` fields are where it is used.
#include "lib/kube/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "lib/common/file.h"
#include "lib/kube/base64.h"
#include "lib/kube/token_source.h"
#include "lib/kube/transport.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace ferry::kube {
namespace {

namespace fs = std::filesystem;
using ferry::testing::TempDir;

void WriteText(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << "could not write " << path;
}

// Asserts that `result` failed with `code` and that its message mentions every
// one of `needles`.
template <typename T>
void ExpectError(const Result<T>& result, ErrorCode code,
                 std::initializer_list<std::string> needles) {
  ASSERT_FALSE(result.ok()) << "expected an error";
  EXPECT_EQ(result.error().code, code) << result.error().message;
  for (const std::string& needle : needles) {
    EXPECT_NE(result.error().message.find(needle), std::string::npos)
        << "\"" << result.error().message << "\" does not mention \"" << needle << "\"";
  }
}

// ----- base64 -----

TEST(Base64, EncodesTheRfc4648Vectors) {
  EXPECT_EQ(EncodeBase64(""), "");
  EXPECT_EQ(EncodeBase64("f"), "Zg==");
  EXPECT_EQ(EncodeBase64("fo"), "Zm8=");
  EXPECT_EQ(EncodeBase64("foo"), "Zm9v");
  EXPECT_EQ(EncodeBase64("foob"), "Zm9vYg==");
  EXPECT_EQ(EncodeBase64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(EncodeBase64("foobar"), "Zm9vYmFy");
}

TEST(Base64, DecodesEachPaddingLength) {
  EXPECT_EQ(DecodeBase64("Zm9vYmFy"), "foobar");  // no padding
  EXPECT_EQ(DecodeBase64("Zm9vYmE="), "fooba");   // one '='
  EXPECT_EQ(DecodeBase64("Zm9vYg=="), "foob");    // two '='
  EXPECT_EQ(DecodeBase64(""), "");
}

TEST(Base64, RoundTripsEveryByteAtEveryLengthModuloThree) {
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes.push_back(static_cast<char>(c));
  for (size_t length : {0u, 1u, 2u, 3u, 4u, 5u, 254u, 255u, 256u}) {
    const std::string bytes = all_bytes.substr(0, length);
    const std::optional<std::string> decoded = DecodeBase64(EncodeBase64(bytes));
    ASSERT_TRUE(decoded.has_value()) << "length " << length;
    EXPECT_EQ(*decoded, bytes) << "length " << length;
  }
}

TEST(Base64, IgnoresWhitespaceAsLineWrappedPemDataHasIt) {
  EXPECT_EQ(DecodeBase64("Zm9v\nYmFy\n"), "foobar");
  EXPECT_EQ(DecodeBase64("  Zm9v YmE=\r\n"), "fooba");
  EXPECT_EQ(DecodeBase64("\tZm9v\tYg==\t"), "foob");
}

TEST(Base64, RefusesWhatIsNotBase64) {
  EXPECT_EQ(DecodeBase64("Zm9"), std::nullopt);       // not a multiple of four
  EXPECT_EQ(DecodeBase64("Zm9vYmF"), std::nullopt);   // one short
  EXPECT_EQ(DecodeBase64("Zm=v"), std::nullopt);      // padding in the middle
  EXPECT_EQ(DecodeBase64("Zg==Zg=="), std::nullopt);  // padding, then more data
  EXPECT_EQ(DecodeBase64("Z==="), std::nullopt);      // three '='
  EXPECT_EQ(DecodeBase64("===="), std::nullopt);
  EXPECT_EQ(DecodeBase64("Zm9v!mFy"), std::nullopt);  // not in the alphabet
  EXPECT_EQ(DecodeBase64("Zm9v-_Fy"), std::nullopt);  // the URL-safe alphabet is not base64
}

// ----- ParseKubeconfig -----

constexpr const char* kCaPem = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
constexpr const char* kCertPem = "-----BEGIN CERTIFICATE-----\nME\n-----END CERTIFICATE-----\n";
constexpr const char* kKeyPem = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n";

std::string InlineKubeconfig() {
  return R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example:6443/
    certificate-authority-data: )" +
         EncodeBase64(kCaPem) + R"(
- name: prod-cluster
  cluster:
    server: https://prod.example:443
    insecure-skip-tls-verify: true
    tls-server-name: kubernetes.default
users:
- name: dev-user
  user:
    client-certificate-data: )" +
         EncodeBase64(kCertPem) + R"(
    client-key-data: )" +
         EncodeBase64(kKeyPem) + R"(
- name: prod-user
  user:
    token: prod-token
contexts:
- name: dev
  context:
    cluster: dev-cluster
    user: dev-user
    namespace: team-a
- name: prod
  context:
    cluster: prod-cluster
    user: prod-user
)";
}

TEST(ParseKubeconfig, DecodesInlineCertificatesOfTheCurrentContext) {
  Result<ClusterConfig> config = ParseKubeconfig(InlineKubeconfig(), "/nowhere");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://dev.example:6443");  // the trailing '/' goes
  EXPECT_EQ(config->ca_pem, kCaPem);
  EXPECT_EQ(config->client_cert_pem, kCertPem);
  EXPECT_EQ(config->client_key_pem, kKeyPem);
  EXPECT_EQ(config->bearer_token, "");
  EXPECT_FALSE(config->insecure_skip_tls_verify);
  EXPECT_EQ(config->default_namespace, "team-a");
  EXPECT_NE(config->origin.find("dev"), std::string::npos) << config->origin;
}

TEST(ParseKubeconfig, AnExplicitContextWinsOverTheCurrentOne) {
  Result<ClusterConfig> config = ParseKubeconfig(InlineKubeconfig(), "/nowhere", "prod");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://prod.example:443");
  EXPECT_EQ(config->bearer_token, "prod-token");
  EXPECT_TRUE(config->insecure_skip_tls_verify);
  EXPECT_EQ(config->tls_server_name, "kubernetes.default");
  EXPECT_EQ(config->ca_pem, "");
  EXPECT_EQ(config->client_cert_pem, "");
  // The prod context names no namespace.
  EXPECT_EQ(config->default_namespace, "default");
  EXPECT_NE(config->origin.find("prod"), std::string::npos) << config->origin;
}

TEST(ParseKubeconfig, ReadsCredentialFilesRelativeToTheBaseDirectory) {
  TempDir dir;
  WriteText(dir / "pki" / "ca.crt", kCaPem);
  WriteText(dir / "pki" / "me.crt", kCertPem);
  WriteText(dir / "elsewhere" / "me.key", kKeyPem);
  const std::string yaml = R"(
current-context: c
clusters:
- name: k
  cluster:
    server: http://127.0.0.1:8080
    certificate-authority: pki/ca.crt
users:
- name: u
  user:
    client-certificate: pki/me.crt
    client-key: )" + (dir / "elsewhere" / "me.key").string() +
                           R"(
contexts:
- name: c
  context: {cluster: k, user: u}
)";
  Result<ClusterConfig> config = ParseKubeconfig(yaml, dir.path());
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "http://127.0.0.1:8080");
  EXPECT_EQ(config->ca_pem, kCaPem);
  EXPECT_EQ(config->client_cert_pem, kCertPem);
  EXPECT_EQ(config->client_key_pem, kKeyPem);  // an absolute path is taken as it is
}

TEST(ParseKubeconfig, InlineDataWinsOverAFilePath) {
  const std::string yaml = R"(
current-context: c
clusters:
- name: k
  cluster:
    server: https://k:6443
    certificate-authority: does/not/exist.crt
    certificate-authority-data: )" +
                           EncodeBase64(kCaPem) +
                           R"(
contexts:
- name: c
  context: {cluster: k}
)";
  Result<ClusterConfig> config = ParseKubeconfig(yaml, "/nowhere");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->ca_pem, kCaPem);
}

TEST(ParseKubeconfig, KeepsATokenFileAsAPathResolvedAgainstTheBaseDirectory) {
  const std::string yaml = R"(
current-context: c
clusters:
- name: k
  cluster: {server: "https://k:6443"}
users:
- name: relative
  user: {tokenFile: tokens/sa}
- name: absolute
  user: {tokenFile: /var/run/token}
contexts:
- name: c
  context: {cluster: k, user: relative}
- name: d
  context: {cluster: k, user: absolute}
)";
  Result<ClusterConfig> relative = ParseKubeconfig(yaml, "/etc/ferry");
  ASSERT_TRUE(relative.ok()) << relative.error().message;
  EXPECT_EQ(relative->token_file, fs::path("/etc/ferry/tokens/sa"));
  EXPECT_EQ(relative->bearer_token, "");
  Result<ClusterConfig> absolute = ParseKubeconfig(yaml, "/etc/ferry", "d");
  ASSERT_TRUE(absolute.ok()) << absolute.error().message;
  EXPECT_EQ(absolute->token_file, fs::path("/var/run/token"));
}

TEST(ParseKubeconfig, AContextWithoutAUserIsAnonymous) {
  const std::string yaml = R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://k:6443"}}]
contexts: [{name: c, context: {cluster: k}}]
)";
  Result<ClusterConfig> config = ParseKubeconfig(yaml, "/nowhere");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->bearer_token, "");
  EXPECT_EQ(config->client_cert_pem, "");
  EXPECT_TRUE(config->token_file.empty());
}

// A kubeconfig with one context "c" on cluster "k" for user "u"; `cluster`
// and `user` are the YAML bodies of those two entries.
std::string OneContext(const std::string& cluster, const std::string& user) {
  return "current-context: c\n"
         "clusters: [{name: k, cluster: " +
         cluster +
         "}]\n"
         "users: [{name: u, user: " +
         user +
         "}]\n"
         "contexts: [{name: c, context: {cluster: k, user: u}}]\n";
}

// A hand-edited kubeconfig may hold a string where a mapping belongs; that is
// a configuration error to report, not an exception out of the parser.
TEST(ParseKubeconfigErrors, AnEntryBodyThatIsNotAMappingIsAnError) {
  const std::string cluster_is_text = R"(
current-context: c
clusters: [{name: k, cluster: "https://k:6443"}]
contexts: [{name: c, context: {cluster: k}}]
)";
  const std::string context_is_text = R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://k:6443"}}]
contexts: [{name: c, context: k}]
)";
  const std::string user_is_text = OneContext("{server: \"https://k:6443\"}", "my-token");
  for (const std::string& yaml : {cluster_is_text, context_is_text, user_is_text}) {
    std::optional<Result<ClusterConfig>> config;
    EXPECT_NO_THROW(config.emplace(ParseKubeconfig(yaml, "/"))) << yaml;
    if (config.has_value()) {
      EXPECT_FALSE(config->ok()) << yaml;
      if (!config->ok()) {
        EXPECT_EQ(config->error().code, ErrorCode::kInvalidArgument) << config->error().message;
      }
    }
  }
}

TEST(ParseKubeconfigErrors, UnknownContextIsNamed) {
  ExpectError(ParseKubeconfig(InlineKubeconfig(), "/nowhere", "staging"),
              ErrorCode::kInvalidArgument, {"context \"staging\" is not defined"});
}

TEST(ParseKubeconfigErrors, NoCurrentContextSaysHowToSetOne) {
  const std::string yaml = "clusters: [{name: k, cluster: {server: \"https://k:6443\"}}]\n";
  ExpectError(ParseKubeconfig(yaml, "/nowhere"), ErrorCode::kInvalidArgument,
              {"no current-context", "use-context"});
}

TEST(ParseKubeconfigErrors, MissingClusterIsNamed) {
  const std::string yaml = R"(
current-context: c
contexts: [{name: c, context: {cluster: gone}}]
)";
  ExpectError(ParseKubeconfig(yaml, "/nowhere", "", "kubeconfig /tmp/x"),
              ErrorCode::kInvalidArgument,
              {"kubeconfig /tmp/x", "context c", "cluster \"gone\" is not defined"});
}

TEST(ParseKubeconfigErrors, MissingUserIsNamed) {
  const std::string yaml = R"(
current-context: c
clusters: [{name: k, cluster: {server: "https://k:6443"}}]
contexts: [{name: c, context: {cluster: k, user: nobody}}]
)";
  ExpectError(ParseKubeconfig(yaml, "/nowhere"), ErrorCode::kInvalidArgument,
              {"user \"nobody\" is not defined"});
}

TEST(ParseKubeconfigErrors, AServerWithoutHttpSchemeIsRefused) {
  ExpectError(ParseKubeconfig(OneContext("{server: \"k.example:6443\"}", "{token: t}"), "/"),
              ErrorCode::kInvalidArgument, {"\"k.example:6443\"", "expected https://"});
  ExpectError(ParseKubeconfig(OneContext("{}", "{token: t}"), "/"), ErrorCode::kInvalidArgument,
              {"has server \"\""});
}

TEST(ParseKubeconfigErrors, ExecAndAuthProviderPluginsAreRefused) {
  ExpectError(ParseKubeconfig(OneContext("{server: \"https://k:6443\"}",
                                         "{exec: {apiVersion: client.authentication.k8s.io/v1, "
                                         "command: aws}}"),
                              "/"),
              ErrorCode::kInvalidArgument, {"user \"u\"", "exec", "does not run"});
  ExpectError(ParseKubeconfig(
                  OneContext("{server: \"https://k:6443\"}", "{auth-provider: {name: gcp}}"), "/"),
              ErrorCode::kInvalidArgument, {"auth-provider"});
}

TEST(ParseKubeconfigErrors, ACertificateNeedsItsKeyAndTheOtherWayRound) {
  const std::string cluster = "{server: \"https://k:6443\"}";
  ExpectError(
      ParseKubeconfig(
          OneContext(cluster, "{client-certificate-data: " + EncodeBase64(kCertPem) + "}"), "/"),
      ErrorCode::kInvalidArgument, {"user \"u\"", "without its key"});
  ExpectError(
      ParseKubeconfig(OneContext(cluster, "{client-key-data: " + EncodeBase64(kKeyPem) + "}"), "/"),
      ErrorCode::kInvalidArgument, {"without its certificate"});
}

TEST(ParseKubeconfigErrors, BadBase64NamesTheField) {
  ExpectError(ParseKubeconfig(OneContext("{server: \"https://k:6443\", "
                                         "certificate-authority-data: \"not*base64\"}",
                                         "{token: t}"),
                              "/"),
              ErrorCode::kInvalidArgument, {"certificate-authority-data is not valid base64"});
  ExpectError(ParseKubeconfig(OneContext("{server: \"https://k:6443\"}",
                                         "{client-certificate-data: abc, client-key-data: abcd}"),
                              "/"),
              ErrorCode::kInvalidArgument, {"client-certificate-data is not valid base64"});
}

TEST(ParseKubeconfigErrors, AMissingCredentialFileIsNamed) {
  TempDir dir;
  ExpectError(ParseKubeconfig(OneContext("{server: \"https://k:6443\", "
                                         "certificate-authority: missing/ca.crt}",
                                         "{token: t}"),
                              dir.path()),
              ErrorCode::kNotFound, {"certificate-authority", (dir / "missing/ca.crt").string()});
}

TEST(ParseKubeconfigErrors, TextThatIsNotYamlOrNotAMappingIsRefused) {
  ExpectError(ParseKubeconfig("clusters: [unclosed\n  - {", "/", "", "kubeconfig /tmp/broken"),
              ErrorCode::kInvalidArgument, {"kubeconfig /tmp/broken", "not valid YAML"});
  ExpectError(ParseKubeconfig("- just\n- a list\n", "/"), ErrorCode::kInvalidArgument,
              {"not a kubeconfig"});
  ExpectError(ParseKubeconfig("clusters: {name: k}\n", "/"), ErrorCode::kInvalidArgument,
              {"clusters must be a list"});
  ExpectError(ParseKubeconfig("users: [{user: {token: t}}]\n", "/"), ErrorCode::kInvalidArgument,
              {"an entry of users has no name"});
}

// ----- LoadKubeconfigFiles -----

class KubeconfigFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The first file: current-context "first", and a cluster "shared".
    WriteText(first_, R"(
current-context: first
clusters:
- name: shared
  cluster: {server: "https://from-first:6443"}
contexts:
- name: first
  context: {cluster: shared, namespace: one}
)");
    // The second: another current-context, the same cluster name with another
    // server, and a context and cluster of its own whose CA file is relative
    // to the second file's folder.
    WriteText(dir_ / "b" / "ca.crt", kCaPem);
    WriteText(second_, R"(
current-context: second
clusters:
- name: shared
  cluster: {server: "https://from-second:6443"}
- name: own
  cluster: {server: "https://own:6443", certificate-authority: ca.crt}
contexts:
- name: second
  context: {cluster: own, namespace: two}
- name: uses-shared
  context: {cluster: shared}
)");
  }

  TempDir dir_;
  const fs::path first_ = dir_ / "a" / "config";
  const fs::path second_ = dir_ / "b" / "config";
};

TEST_F(KubeconfigFilesTest, TheFirstFileWinsForCurrentContextAndDuplicatedNames) {
  Result<ClusterConfig> config = LoadKubeconfigFiles({first_, second_});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://from-first:6443");
  EXPECT_EQ(config->default_namespace, "one");

  // A context from the second file still finds "shared" as the first file defines it.
  Result<ClusterConfig> shared = LoadKubeconfigFiles({first_, second_}, "uses-shared");
  ASSERT_TRUE(shared.ok()) << shared.error().message;
  EXPECT_EQ(shared->server, "https://from-first:6443");
}

TEST_F(KubeconfigFilesTest, EntriesOfALaterFileResolvePathsAgainstThatFilesFolder) {
  Result<ClusterConfig> config = LoadKubeconfigFiles({first_, second_}, "second");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://own:6443");
  EXPECT_EQ(config->ca_pem, kCaPem);
  EXPECT_EQ(config->default_namespace, "two");
}

TEST_F(KubeconfigFilesTest, TheOrderOfTheListDecides) {
  Result<ClusterConfig> config = LoadKubeconfigFiles({second_, first_});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://own:6443");
  Result<ClusterConfig> shared = LoadKubeconfigFiles({second_, first_}, "uses-shared");
  ASSERT_TRUE(shared.ok()) << shared.error().message;
  EXPECT_EQ(shared->server, "https://from-second:6443");
}

TEST_F(KubeconfigFilesTest, MissingFilesAreSkipped) {
  Result<ClusterConfig> config =
      LoadKubeconfigFiles({dir_ / "missing-1", first_, dir_ / "missing-2"});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://from-first:6443");
  EXPECT_NE(config->origin.find(first_.string()), std::string::npos) << config->origin;
}

TEST_F(KubeconfigFilesTest, AllFilesMissingIsNotFoundAndListsWhatWasTried) {
  const fs::path one = dir_ / "missing-1";
  const fs::path two = dir_ / "missing-2";
  ExpectError(LoadKubeconfigFiles({one, two}), ErrorCode::kNotFound,
              {"no kubeconfig file found", one.string(), two.string()});
}

TEST_F(KubeconfigFilesTest, ABrokenFileIsNamedInTheError) {
  const fs::path broken = dir_ / "broken";
  WriteText(broken, "- not\n- a mapping\n");
  ExpectError(LoadKubeconfigFiles({first_, broken}), ErrorCode::kInvalidArgument,
              {broken.string(), "not a kubeconfig"});
}

// ----- LoadInClusterConfig -----

class InClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteText(dir_ / "token", "sa-token\n");
    WriteText(dir_ / "ca.crt", kCaPem);
    WriteText(dir_ / "namespace", "ferry-system\n");
  }
  InClusterEnvironment Environment(const std::string& host) const {
    return {.service_host = host, .service_port = "443", .service_account_dir = dir_.path()};
  }

  TempDir dir_;
};

TEST_F(InClusterTest, ReadsTheMountedServiceAccount) {
  Result<ClusterConfig> config = LoadInClusterConfig(Environment("10.96.0.1"));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://10.96.0.1:443");
  EXPECT_EQ(config->ca_pem, kCaPem);
  EXPECT_EQ(config->token_file, dir_ / "token");  // a path, so rotation is seen
  EXPECT_EQ(config->bearer_token, "");
  EXPECT_EQ(config->default_namespace, "ferry-system");  // newline trimmed
}

TEST_F(InClusterTest, BracketsAnIpv6ServiceAddress) {
  Result<ClusterConfig> config = LoadInClusterConfig(Environment("fd00:10:96::1"));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://[fd00:10:96::1]:443");
}

TEST_F(InClusterTest, WithoutANamespaceFileTheNamespaceIsDefault) {
  fs::remove(dir_ / "namespace");
  Result<ClusterConfig> config = LoadInClusterConfig(Environment("10.96.0.1"));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->default_namespace, "default");
}

TEST_F(InClusterTest, OutsideAPodIsNotFound) {
  ExpectError(LoadInClusterConfig(
                  {.service_host = "", .service_port = "443", .service_account_dir = dir_.path()}),
              ErrorCode::kNotFound, {"KUBERNETES_SERVICE_HOST"});
  ExpectError(
      LoadInClusterConfig(
          {.service_host = "10.96.0.1", .service_port = "", .service_account_dir = dir_.path()}),
      ErrorCode::kNotFound, {"KUBERNETES_SERVICE_PORT"});
}

TEST_F(InClusterTest, WithoutATokenSaysWhereItLooked) {
  fs::remove(dir_ / "token");
  ExpectError(LoadInClusterConfig(Environment("10.96.0.1")), ErrorCode::kNotFound,
              {(dir_ / "token").string(), "automountServiceAccountToken"});
}

TEST_F(InClusterTest, WithoutTheCaFileFails) {
  fs::remove(dir_ / "ca.crt");
  ExpectError(LoadInClusterConfig(Environment("10.96.0.1")), ErrorCode::kNotFound,
              {(dir_ / "ca.crt").string()});
}

// ----- TokenSource -----

TEST(TokenSource, AFixedTokenIsReturnedAsGiven) {
  Result<std::string> token = TokenSource::Fixed("abc")->Token();
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(*token, "abc");
  Result<std::string> none = TokenSource::Fixed("")->Token();
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, "");
}

TEST(TokenSource, ReReadsTheFileAfterItChanges) {
  TempDir dir;
  const fs::path file = dir / "token";
  WriteText(file, "first-token\n");
  std::unique_ptr<TokenSource> source = TokenSource::FromFile(file);
  Result<std::string> first = source->Token();
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, "first-token");  // the newline is not part of the token

  const fs::file_time_type before = fs::last_write_time(file);
  WriteText(file, "second-token\r\n");
  // Coarse file systems could leave the same mtime within one second.
  fs::last_write_time(file, before + std::chrono::seconds(5));
  Result<std::string> second = source->Token();
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(*second, "second-token");
}

TEST(TokenSource, KeepsTheLastGoodTokenWhileTheFileIsGone) {
  TempDir dir;
  const fs::path file = dir / "token";
  WriteText(file, "good-token");
  std::unique_ptr<TokenSource> source = TokenSource::FromFile(file);
  ASSERT_TRUE(source->Token().ok());
  fs::remove(file);
  Result<std::string> during_gap = source->Token();
  ASSERT_TRUE(during_gap.ok()) << during_gap.error().message;
  EXPECT_EQ(*during_gap, "good-token");

  WriteText(file, "rotated-token\n");
  fs::last_write_time(file, fs::file_time_type::clock::now() + std::chrono::seconds(5));
  Result<std::string> after = source->Token();
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(*after, "rotated-token");
}

TEST(TokenSource, AFileThatNeverExistedIsAnErrorNamingIt) {
  TempDir dir;
  ExpectError(TokenSource::FromFile(dir / "absent")->Token(), ErrorCode::kNotFound,
              {"bearer token", (dir / "absent").string()});
}

// ----- Transport::Create -----

// Keys and certificates made by the openssl tool, once for all tests here.
class TransportCreateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = std::make_unique<TempDir>();
    const auto run = [](const std::vector<std::string>& argv) {
      const ferry::testing::ProcessResult made = ferry::testing::RunProcess(argv);
      if (made.exit_code != 0) generation_error_ += made.err;
    };
    run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=ferry-test", "-keyout", (*pki_ / "key.pem").string(),
         "-out", (*pki_ / "cert.pem").string()});
    run({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-out", (*pki_ / "other-key.pem").string()});
  }
  static void TearDownTestSuite() { pki_.reset(); }
  void SetUp() override {
    ASSERT_EQ(generation_error_, "") << "openssl could not make the test keys";
    cert_ = *ReadFileToString(*pki_ / "cert.pem");
    key_ = *ReadFileToString(*pki_ / "key.pem");
    other_key_ = *ReadFileToString(*pki_ / "other-key.pem");
  }

  static ClusterConfig Config() {
    ClusterConfig config;
    config.server = "https://127.0.0.1:6443";
    config.origin = "kubeconfig test (context t)";
    return config;
  }

  static inline std::unique_ptr<TempDir> pki_;
  static inline std::string generation_error_;
  std::string cert_, key_, other_key_;
};

TEST_F(TransportCreateTest, AcceptsAMatchingCertificateAndKeyAndAPemCa) {
  ClusterConfig config = Config();
  config.ca_pem = cert_;
  config.client_cert_pem = cert_;
  config.client_key_pem = key_;
  Result<std::unique_ptr<Transport>> transport = Transport::Create(config);
  ASSERT_TRUE(transport.ok()) << transport.error().message;
  EXPECT_EQ((*transport)->server(), "https://127.0.0.1:6443");
}

TEST_F(TransportCreateTest, RefusesCaDataThatHoldsNoPemCertificate) {
  ClusterConfig config = Config();
  config.ca_pem = "this is not a certificate\n";
  ExpectError(Transport::Create(config), ErrorCode::kInvalidArgument,
              {"kubeconfig test (context t)", "certificate authority", "no PEM certificate"});
}

TEST_F(TransportCreateTest, RefusesAKeyThatDoesNotBelongToTheCertificate) {
  ClusterConfig config = Config();
  config.client_cert_pem = cert_;
  config.client_key_pem = other_key_;
  ExpectError(Transport::Create(config), ErrorCode::kInvalidArgument,
              {"kubeconfig test (context t)", "does not belong to the client certificate"});
}

TEST_F(TransportCreateTest, RefusesCertificateOrKeyTextThatIsNotPem) {
  ClusterConfig config = Config();
  config.client_cert_pem = kCertPem;  // PEM armour around garbage
  config.client_key_pem = key_;
  ExpectError(Transport::Create(config), ErrorCode::kInvalidArgument,
              {"client certificate is not PEM"});
  config.client_cert_pem = cert_;
  config.client_key_pem = "garbage";
  ExpectError(Transport::Create(config), ErrorCode::kInvalidArgument,
              {"client key is not a PEM private key"});
}

TEST_F(TransportCreateTest, RefusesServersItCannotConnectTo) {
  ClusterConfig config = Config();
  config.server = "https://k.example:6443/prefix";
  ExpectError(Transport::Create(config), ErrorCode::kInvalidArgument, {"has a path"});
  config.server = "https://k.example:99999";
  ExpectError(Transport::Create(config), ErrorCode::kInvalidArgument, {"bad port"});
  config.server = "https://k.example:64x3";
  ExpectError(Transport::Create(config), ErrorCode::kInvalidArgument, {"bad port"});
  config.server = "https://:6443";
  ExpectError(Transport::Create(config), ErrorCode::kInvalidArgument, {"no host"});
  config.server = "https://[::1:6443";
  ExpectError(Transport::Create(config), ErrorCode::kInvalidArgument, {"bad server"});
  // A ClusterConfig built by hand may lack the scheme (or be empty): named, not misread.
  for (const char* not_a_url : {"", "ftp", "127.0.0.1:6443"}) {
    config.server = not_a_url;
    ExpectError(Transport::Create(config), ErrorCode::kInvalidArgument, {"is not a URL"});
  }
}

TEST_F(TransportCreateTest, AcceptsBracketedIpv6AndDefaultPorts) {
  for (const char* server : {"https://[fd00::1]:6443", "https://[fd00::1]", "http://k.example"}) {
    ClusterConfig config = Config();
    config.server = server;
    Result<std::unique_ptr<Transport>> transport = Transport::Create(config);
    EXPECT_TRUE(transport.ok()) << server << ": " << transport.error().message;
  }
}

}  // namespace
}  // namespace ferry::kube
