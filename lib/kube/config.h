// Where the API server is and how to prove who we are to it: read from a
// kubeconfig file (as kubectl does) or from the service account Kubernetes
// mounts into every pod. A ClusterConfig holds certificates and keys as PEM
// text, never paths, so that what was checked at load time is what is used;
// only a token file stays a path, because the kubelet rotates it under us
// (see token_source.h).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lib/common/result.h"

namespace ferry::kube {

struct ClusterConfig {
  std::string server;  // "https://host:port" or "http://host:port", no trailing '/'
  std::string ca_pem;  // trusted certificate authorities; empty: the system's
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;  // overrides the host name the certificate must match
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string bearer_token;          // a fixed token, or
  std::filesystem::path token_file;  // a token re-read whenever the file changes
  std::string default_namespace = "default";
  std::string origin;  // where this came from, for messages: "kubeconfig /x (context y)"
};

// Parses kubeconfig YAML. Relative file paths in it resolve against
// `base_dir`, as kubectl resolves them against the file's folder. An empty
// `context` means the file's current-context.
Result<ClusterConfig> ParseKubeconfig(std::string_view yaml, const std::filesystem::path& base_dir,
                                      std::string_view context = "",
                                      const std::string& origin = "kubeconfig");

// Reads the kubeconfig files of a KUBECONFIG-style list and merges them the
// way kubectl does: for current-context and for every named cluster, user and
// context, the first file that sets it wins. Missing files are skipped, but
// not all of them.
Result<ClusterConfig> LoadKubeconfigFiles(const std::vector<std::filesystem::path>& files,
                                          std::string_view context = "");

// What a pod sees: KUBERNETES_SERVICE_HOST/PORT and the mounted service
// account (token, ca.crt, namespace).
struct InClusterEnvironment {
  std::string service_host;
  std::string service_port;
  std::filesystem::path service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
};
InClusterEnvironment InClusterEnvironmentFromProcess();
Result<ClusterConfig> LoadInClusterConfig(const InClusterEnvironment& environment);

// The rule every Ferry binary follows: an explicit --kubeconfig wins; then
// $KUBECONFIG; then the in-cluster service account when running in a pod;
// then ~/.kube/config. The error, when nothing is found, lists what was tried.
Result<ClusterConfig> LoadDefaultConfig(const std::string& kubeconfig_flag,
                                        std::string_view context = "");

}  // namespace ferry::kube
