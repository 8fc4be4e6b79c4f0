// Which ModelVersions to reconcile when something they depend on changes:
// the version's siblings of the same model (they share the nodes' entry and
// the stable version), the ModelNodes and Nodes that hold or may hold the
// model, the serving Deployment and its canary, the signing-key Secret and
// the canary's pods. Each mapping reads the ModelVersion cache; handlers run
// on informer threads and only enqueue keys.
#pragma once

#include <string>
#include <vector>

#include "lib/kube/object.h"
#include "lib/kube/store.h"

namespace ferry::operator_ {

// Keys of the ModelVersions of `model`.
std::vector<std::string> VersionsOfModel(const kube::Store& model_versions, std::string_view model);
std::vector<std::string> ForModelVersion(const kube::Store& model_versions, const kube::Json& mv);
std::vector<std::string> ForModelNode(const kube::Store& model_versions, const kube::Json& node);
std::vector<std::string> ForNode(const kube::Store& model_versions, const kube::Json& node);
std::vector<std::string> ForDeployment(const kube::Store& model_versions,
                                       const kube::Json& deployment);
std::vector<std::string> ForSecret(const kube::Store& model_versions, const kube::Json& secret);
std::vector<std::string> ForService(const kube::Store& model_versions, const kube::Json& service);
// Pods of a canary or green Deployment: their ModelVersion.
std::vector<std::string> ForCanaryPod(const kube::Json& pod);

}  // namespace ferry::operator_
