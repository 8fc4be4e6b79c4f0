#include "lib/kube/resource.h"

#include <cctype>
#include <cstdio>

namespace ferry::kube {

std::string CollectionPath(const ResourceType& type, std::string_view namespace_name) {
  std::string path =
      type.group.empty() ? "/api/" + type.version : "/apis/" + type.group + "/" + type.version;
  if (type.namespaced && !namespace_name.empty()) {
    path += "/namespaces/";
    path += namespace_name;
  }
  return path + "/" + type.plural;
}

std::string ObjectPath(const ResourceType& type, std::string_view namespace_name,
                       std::string_view name, std::string_view subresource) {
  std::string path = CollectionPath(type, namespace_name) + "/" + std::string(name);
  if (!subresource.empty()) path += "/" + std::string(subresource);
  return path;
}

std::string EncodeQueryValue(std::string_view value) {
  std::string encoded;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      encoded.push_back(static_cast<char>(c));
    } else {
      char escape[4];
      std::snprintf(escape, sizeof escape, "%%%02X", c);
      encoded += escape;
    }
  }
  return encoded;
}

void AddQueryParameter(std::string& target, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  target += target.find('?') == std::string::npos ? '?' : '&';
  target += name;
  target += '=';
  target += EncodeQueryValue(value);
}

namespace types {
ResourceType Namespaces() { return {"", "v1", "namespaces", "Namespace", false}; }
ResourceType Nodes() { return {"", "v1", "nodes", "Node", false}; }
ResourceType Pods() { return {"", "v1", "pods", "Pod", true}; }
ResourceType ConfigMaps() { return {"", "v1", "configmaps", "ConfigMap", true}; }
ResourceType Secrets() { return {"", "v1", "secrets", "Secret", true}; }
ResourceType Services() { return {"", "v1", "services", "Service", true}; }
ResourceType Deployments() { return {"apps", "v1", "deployments", "Deployment", true}; }
ResourceType DaemonSets() { return {"apps", "v1", "daemonsets", "DaemonSet", true}; }
ResourceType Leases() { return {"coordination.k8s.io", "v1", "leases", "Lease", true}; }
ResourceType Events() { return {"events.k8s.io", "v1", "events", "Event", true}; }
ResourceType CustomResourceDefinitions() {
  return {"apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
          false};
}
ResourceType ModelVersions() {
  return {"ferry.dev", "v1alpha1", "modelversions", "ModelVersion", true};
}
ResourceType ModelNodes() { return {"ferry.dev", "v1alpha1", "modelnodes", "ModelNode", false}; }
}  // namespace types

}  // namespace ferry::kube
