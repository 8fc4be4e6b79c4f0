// Which kind of object a request is about, and the URL paths the API server
// serves it under: core resources under /api/v1, everything else (including
// our own CRDs) under /apis/<group>/<version>; namespaced resources inside
// /namespaces/<ns>/, cluster-scoped ones not. An empty namespace for a
// namespaced type means "all namespaces" (valid for list and watch only).
#pragma once

#include <string>
#include <string_view>

namespace ferry::kube {

struct ResourceType {
  std::string group;    // "" for the core group
  std::string version;  // "v1"
  std::string plural;   // "configmaps"
  std::string kind;     // "ConfigMap"
  bool namespaced = true;

  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  // "configmaps" or "modelversions.ferry.dev", as RBAC and kubectl name it.
  std::string Describe() const { return group.empty() ? plural : plural + "." + group; }
};

// "/api/v1/namespaces/ns/configmaps", or without the namespace part.
std::string CollectionPath(const ResourceType& type, std::string_view namespace_name);
// CollectionPath + "/name", + "/subresource" when given.
std::string ObjectPath(const ResourceType& type, std::string_view namespace_name,
                       std::string_view name, std::string_view subresource = "");

// Percent-encodes a query parameter's value (label selectors carry '=', ',' and '!').
std::string EncodeQueryValue(std::string_view value);
// Appends "?name=value" or "&name=value" (encoded) to a request target; an
// empty value adds nothing, as the API reads an absent parameter.
void AddQueryParameter(std::string& target, std::string_view name, std::string_view value);

// The types Ferry's programs use; any other is a ResourceType literal away.
namespace types {
ResourceType Namespaces();
ResourceType Nodes();
ResourceType Pods();
ResourceType ConfigMaps();
ResourceType Secrets();
ResourceType Services();
ResourceType Deployments();
ResourceType DaemonSets();
ResourceType Leases();
ResourceType Events();  // events.k8s.io/v1
ResourceType CustomResourceDefinitions();
ResourceType ModelVersions();  // ferry.dev/v1alpha1, namespaced
ResourceType ModelNodes();     // ferry.dev/v1alpha1, cluster-scoped
}  // namespace types

}  // namespace ferry::kube
