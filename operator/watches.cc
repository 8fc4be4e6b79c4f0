#include "operator/watches.h"

#include <set>

#include "operator/naming.h"

namespace ferry::operator_ {

namespace {

const kube::Json& Spec(const kube::Json& object) { return kube::ObjectField(object, "spec"); }

}  // namespace

std::vector<std::string> VersionsOfModel(const kube::Store& model_versions,
                                         std::string_view model) {
  std::vector<std::string> keys;
  for (const kube::ObjectPtr& mv : model_versions.List()) {
    if (kube::StringField(Spec(*mv), "model") == model) keys.push_back(kube::ObjectKey(*mv));
  }
  return keys;
}

std::vector<std::string> ForModelVersion(const kube::Store& model_versions, const kube::Json& mv) {
  auto keys = VersionsOfModel(model_versions, kube::StringField(Spec(mv), "model"));
  keys.push_back(kube::ObjectKey(mv));  // itself, also when just deleted from the cache
  return keys;
}

std::vector<std::string> ForModelNode(const kube::Store& model_versions, const kube::Json& node) {
  std::set<std::string> models;
  const kube::Json& entries = Spec(node).value("models", kube::Json::array());
  for (const kube::Json& entry : entries.is_array() ? entries : kube::Json::array()) {
    models.insert(kube::StringField(entry, "model"));
  }
  const kube::Json& held = kube::ObjectField(node, "status").value("versions", kube::Json::array());
  for (const kube::Json& entry : held.is_array() ? held : kube::Json::array()) {
    models.insert(kube::StringField(entry, "model"));
  }
  // A node new to every model may be a target for any of them.
  if (models.empty()) {
    std::vector<std::string> all;
    for (const kube::ObjectPtr& mv : model_versions.List()) all.push_back(kube::ObjectKey(*mv));
    return all;
  }
  std::vector<std::string> keys;
  for (const std::string& model : models) {
    for (std::string& key : VersionsOfModel(model_versions, model)) keys.push_back(std::move(key));
  }
  return keys;
}

std::vector<std::string> ForNode(const kube::Store& model_versions, const kube::Json&) {
  // Labels decide selection, and any version may select any node.
  std::vector<std::string> keys;
  for (const kube::ObjectPtr& mv : model_versions.List()) keys.push_back(kube::ObjectKey(*mv));
  return keys;
}

std::vector<std::string> ForDeployment(const kube::Store& model_versions,
                                       const kube::Json& deployment) {
  const std::string ns = kube::Namespace(deployment);
  const std::string name = kube::Name(deployment);
  std::vector<std::string> keys;
  for (const kube::ObjectPtr& mv : model_versions.List()) {
    if (kube::Namespace(*mv) != ns) continue;
    const std::string serving =
        kube::StringField(kube::ObjectField(Spec(*mv), "serving"), "deployment");
    if (!serving.empty() && (serving == name || TrackName(serving, kCanaryTrack) == name ||
                             TrackName(serving, kGreenTrack) == name)) {
      keys.push_back(kube::ObjectKey(*mv));
    }
  }
  return keys;
}

std::vector<std::string> ForSecret(const kube::Store& model_versions, const kube::Json& secret) {
  const std::string ns = kube::Namespace(secret);
  const std::string name = kube::Name(secret);
  std::vector<std::string> keys;
  for (const kube::ObjectPtr& mv : model_versions.List()) {
    if (kube::Namespace(*mv) != ns) continue;
    const kube::Json& source = kube::ObjectField(Spec(*mv), "source");
    if (kube::StringField(kube::ObjectField(source, "publicKeySecretRef"), "name") == name) {
      keys.push_back(kube::ObjectKey(*mv));
    }
  }
  return keys;
}

std::vector<std::string> ForService(const kube::Store& model_versions, const kube::Json& service) {
  const std::string ns = kube::Namespace(service);
  const std::string name = kube::Name(service);
  std::vector<std::string> keys;
  for (const kube::ObjectPtr& mv : model_versions.List()) {
    if (kube::Namespace(*mv) != ns) continue;
    const kube::Json& spec = Spec(*mv);
    const std::string active = kube::StringField(kube::ObjectField(spec, "serving"), "service");
    const std::string preview = kube::StringField(
        kube::ObjectField(kube::ObjectField(spec, "strategy"), "blueGreen"), "previewService");
    if (active == name || preview == name) keys.push_back(kube::ObjectKey(*mv));
  }
  return keys;
}

std::vector<std::string> ForCanaryPod(const kube::Json& pod) {
  const auto labels = kube::Labels(pod);
  auto owner = labels.find(std::string(kModelVersionLabel));
  if (owner == labels.end()) return {};
  return {kube::ObjectKey(kube::Namespace(pod), owner->second)};
}

}  // namespace ferry::operator_
