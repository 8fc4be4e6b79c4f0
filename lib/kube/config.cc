#include "lib/kube/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <optional>

#include "lib/common/file.h"
#include "lib/kube/base64.h"

namespace ferry::kube {
namespace {

namespace fs = std::filesystem;

Error ConfigError(const std::string& origin, const std::string& what) {
  return MakeError(ErrorCode::kInvalidArgument, origin + ": " + what);
}

// The named entries of one list ("clusters", "users", "contexts") of one file,
// each remembered with the folder its relative paths resolve against.
struct Entry {
  YAML::Node body;
  fs::path base_dir;
};
using NamedEntries = std::map<std::string, Entry>;

struct MergedKubeconfig {
  std::string current_context;
  NamedEntries clusters, users, contexts;
};

Status MergeEntries(const YAML::Node& file, const char* list, const char* body_key,
                    const fs::path& base_dir, NamedEntries& into, const std::string& origin) {
  const YAML::Node entries = file[list];
  if (!entries) return OkStatus();
  if (!entries.IsSequence()) return ConfigError(origin, std::string(list) + " must be a list");
  for (const YAML::Node& entry : entries) {
    if (!entry.IsMap() || !entry["name"] || !entry["name"].IsScalar()) {
      return ConfigError(origin, std::string("an entry of ") + list + " has no name");
    }
    const YAML::Node body = entry[body_key];
    if (body && !body.IsMap() && !body.IsNull()) {
      return ConfigError(origin, std::string("the ") + body_key + " of " + list + " entry \"" +
                                     entry["name"].as<std::string>() + "\" is not a mapping");
    }
    into.try_emplace(
        entry["name"].as<std::string>(),
        Entry{body && body.IsMap() ? body : YAML::Node(YAML::NodeType::Map), base_dir});
  }
  return OkStatus();
}

Status MergeFile(std::string_view text, const fs::path& base_dir, const std::string& origin,
                 MergedKubeconfig& merged) {
  YAML::Node file;
  try {
    file = YAML::Load(std::string(text));
  } catch (const YAML::Exception& error) {
    return ConfigError(origin, std::string("not valid YAML: ") + error.what());
  }
  if (file.IsNull()) return OkStatus();  // kubectl accepts an empty file
  if (!file.IsMap()) return ConfigError(origin, "not a kubeconfig (expected a YAML mapping)");
  if (merged.current_context.empty() && file["current-context"]) {
    merged.current_context = file["current-context"].as<std::string>("");
  }
  for (auto [list, key, into] : {std::tuple{"clusters", "cluster", &merged.clusters},
                                 std::tuple{"users", "user", &merged.users},
                                 std::tuple{"contexts", "context", &merged.contexts}}) {
    if (Status merged_list = MergeEntries(file, list, key, base_dir, *into, origin); !merged_list) {
      return merged_list;
    }
  }
  return OkStatus();
}

std::string Scalar(const YAML::Node& map, const char* key) {
  const YAML::Node value = map[key];
  return value && value.IsScalar() ? value.as<std::string>() : std::string();
}

// Reads a credential given either inline (`<key>-data`, base64) or as a file
// (`<key>`, relative to the kubeconfig's folder). Inline data wins, as in kubectl.
Result<std::string> ReadDataOrFile(const Entry& entry, const std::string& key,
                                   const std::string& origin) {
  if (const std::string data = Scalar(entry.body, (key + "-data").c_str()); !data.empty()) {
    std::optional<std::string> decoded = DecodeBase64(data);
    if (!decoded) return ConfigError(origin, key + "-data is not valid base64");
    return *decoded;
  }
  const std::string file = Scalar(entry.body, key.c_str());
  if (file.empty()) return std::string();
  const fs::path path = fs::path(file).is_absolute() ? fs::path(file) : entry.base_dir / file;
  Result<std::string> contents = ReadFileToString(path);
  if (!contents) return contents.error().Wrap(origin + ": " + key);
  return contents;
}

Result<ClusterConfig> Resolve(const MergedKubeconfig& merged, std::string_view wanted_context,
                              const std::string& origin) {
  const std::string context_name =
      wanted_context.empty() ? merged.current_context : std::string(wanted_context);
  if (context_name.empty()) {
    return ConfigError(origin,
                       "no current-context is set; set one with `kubectl config "
                       "use-context NAME` or name a context");
  }
  const auto context = merged.contexts.find(context_name);
  if (context == merged.contexts.end()) {
    return ConfigError(origin, "context \"" + context_name + "\" is not defined");
  }
  const std::string where = origin + " (context " + context_name + ")";
  const std::string cluster_name = Scalar(context->second.body, "cluster");
  const auto cluster = merged.clusters.find(cluster_name);
  if (cluster == merged.clusters.end()) {
    return ConfigError(where, "cluster \"" + cluster_name + "\" is not defined");
  }

  ClusterConfig config;
  config.origin = where;
  config.server = Scalar(cluster->second.body, "server");
  while (config.server.ends_with('/')) config.server.pop_back();
  if (!config.server.starts_with("https://") && !config.server.starts_with("http://")) {
    return ConfigError(where, "cluster \"" + cluster_name + "\" has server \"" + config.server +
                                  "\"; expected https://host:port");
  }
  config.insecure_skip_tls_verify =
      Scalar(cluster->second.body, "insecure-skip-tls-verify") == "true";
  config.tls_server_name = Scalar(cluster->second.body, "tls-server-name");
  Result<std::string> ca = ReadDataOrFile(cluster->second, "certificate-authority", where);
  if (!ca) return ca.error();
  config.ca_pem = std::move(*ca);
  if (const std::string ns = Scalar(context->second.body, "namespace"); !ns.empty()) {
    config.default_namespace = ns;
  }

  const std::string user_name = Scalar(context->second.body, "user");
  if (user_name.empty()) return config;  // anonymous
  const auto user = merged.users.find(user_name);
  if (user == merged.users.end()) {
    return ConfigError(where, "user \"" + user_name + "\" is not defined");
  }
  if (user->second.body["exec"] || user->second.body["auth-provider"]) {
    return ConfigError(where, "user \"" + user_name +
                                  "\" authenticates through an exec or auth-provider plugin, which "
                                  "Ferry does not run; use a client certificate or a token");
  }
  Result<std::string> cert = ReadDataOrFile(user->second, "client-certificate", where);
  if (!cert) return cert.error();
  Result<std::string> key = ReadDataOrFile(user->second, "client-key", where);
  if (!key) return key.error();
  if (cert->empty() != key->empty()) {
    return ConfigError(where, "user \"" + user_name +
                                  "\" has a client certificate without its key, or a key "
                                  "without its certificate; give both");
  }
  config.client_cert_pem = std::move(*cert);
  config.client_key_pem = std::move(*key);
  config.bearer_token = Scalar(user->second.body, "token");
  if (const std::string token_file = Scalar(user->second.body, "tokenFile"); !token_file.empty()) {
    config.token_file = fs::path(token_file).is_absolute() ? fs::path(token_file)
                                                           : user->second.base_dir / token_file;
  }
  return config;
}

std::vector<fs::path> SplitPathList(std::string_view list) {
  std::vector<fs::path> paths;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t end = std::min(list.find(':', start), list.size());
    if (end > start) paths.emplace_back(std::string(list.substr(start, end - start)));
    start = end + 1;
  }
  return paths;
}

}  // namespace

Result<ClusterConfig> ParseKubeconfig(std::string_view yaml, const fs::path& base_dir,
                                      std::string_view context, const std::string& origin) {
  MergedKubeconfig merged;
  if (Status parsed = MergeFile(yaml, base_dir, origin, merged); !parsed) return parsed.error();
  return Resolve(merged, context, origin);
}

Result<ClusterConfig> LoadKubeconfigFiles(const std::vector<fs::path>& files,
                                          std::string_view context) {
  MergedKubeconfig merged;
  std::string origin;
  for (const fs::path& file : files) {
    std::error_code error;
    if (!fs::exists(file, error)) continue;
    Result<std::string> text = ReadFileToString(file);
    if (!text) return text.error().Wrap("kubeconfig");
    const std::string file_origin = "kubeconfig " + file.string();
    if (Status parsed = MergeFile(*text, file.parent_path(), file_origin, merged); !parsed) {
      return parsed.error();
    }
    origin += (origin.empty() ? "" : ", ") + file.string();
  }
  if (origin.empty()) {
    std::string tried;
    for (const fs::path& file : files) tried += (tried.empty() ? "" : ", ") + file.string();
    return MakeError(ErrorCode::kNotFound, "no kubeconfig file found (tried " + tried + ")");
  }
  return Resolve(merged, context, "kubeconfig " + origin);
}

InClusterEnvironment InClusterEnvironmentFromProcess() {
  InClusterEnvironment environment;
  if (const char* host = std::getenv("KUBERNETES_SERVICE_HOST")) environment.service_host = host;
  if (const char* port = std::getenv("KUBERNETES_SERVICE_PORT")) environment.service_port = port;
  return environment;
}

Result<ClusterConfig> LoadInClusterConfig(const InClusterEnvironment& environment) {
  if (environment.service_host.empty() || environment.service_port.empty()) {
    return MakeError(ErrorCode::kNotFound,
                     "not running in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
                     "are not set");
  }
  const fs::path& dir = environment.service_account_dir;
  const fs::path token = dir / "token";
  std::error_code error;
  if (!fs::is_regular_file(token, error)) {
    return MakeError(ErrorCode::kNotFound,
                     "no service account token at " + token.string() +
                         "; is automountServiceAccountToken off for this pod?");
  }
  ClusterConfig config;
  config.origin = "in-cluster service account (" + dir.string() + ")";
  // An IPv6 service address needs brackets in a URL.
  const bool ipv6 = environment.service_host.find(':') != std::string::npos;
  config.server = "https://" +
                  (ipv6 ? "[" + environment.service_host + "]" : environment.service_host) + ":" +
                  environment.service_port;
  Result<std::string> ca = ReadFileToString(dir / "ca.crt");
  if (!ca) return ca.error().Wrap("in-cluster config");
  config.ca_pem = std::move(*ca);
  config.token_file = token;
  if (Result<std::string> ns = ReadFileToString(dir / "namespace"); ns && !ns->empty()) {
    config.default_namespace = *ns;
    while (!config.default_namespace.empty() &&
           std::isspace(static_cast<unsigned char>(config.default_namespace.back()))) {
      config.default_namespace.pop_back();
    }
  }
  return config;
}

Result<ClusterConfig> LoadDefaultConfig(const std::string& kubeconfig_flag,
                                        std::string_view context) {
  if (!kubeconfig_flag.empty()) {
    std::error_code error;
    if (!fs::exists(kubeconfig_flag, error)) {
      return MakeError(ErrorCode::kNotFound, "kubeconfig " + kubeconfig_flag + " does not exist");
    }
    return LoadKubeconfigFiles({kubeconfig_flag}, context);
  }
  if (const char* list = std::getenv("KUBECONFIG"); list != nullptr && *list != '\0') {
    return LoadKubeconfigFiles(SplitPathList(list), context);
  }
  const InClusterEnvironment environment = InClusterEnvironmentFromProcess();
  if (!environment.service_host.empty()) return LoadInClusterConfig(environment);
  const char* home = std::getenv("HOME");
  const fs::path fallback = fs::path(home != nullptr ? home : "/") / ".kube" / "config";
  Result<ClusterConfig> config = LoadKubeconfigFiles({fallback}, context);
  if (!config && config.error().code == ErrorCode::kNotFound) {
    return MakeError(ErrorCode::kNotFound,
                     "no cluster configuration: pass --kubeconfig, set KUBECONFIG, run in a pod, "
                     "or create " +
                         fallback.string());
  }
  return config;
}

}  // namespace ferry::kube
