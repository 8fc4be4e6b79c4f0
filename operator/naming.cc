#include "operator/naming.h"

#include "lib/common/sha256.h"

namespace ferry::operator_ {

std::string VersionPath(std::string_view model, std::string_view version) {
  return "/models/" + std::string(model) + "/versions/" + std::string(version);
}

std::string ReadyLabel(std::string_view model, std::string_view version) {
  // A label name is at most 63 characters of [-A-Za-z0-9_.]. Model names
  // never contain '_', so the first '_' separates model from version; '+'
  // (SemVer build metadata) is not allowed and becomes '_'.
  std::string name = std::string(model) + "_" + std::string(version);
  for (char& c : name) {
    if (c == '+') c = '_';
  }
  if (name.size() > 63) {
    name = "h-" + ToHex(Sha256Of(std::string(model) + "/" + std::string(version))).substr(0, 40);
  }
  return std::string(kReadyLabelPrefix) + name;
}

std::string TrackName(std::string_view deployment, std::string_view track) {
  return std::string(deployment) + "-" + std::string(track);
}

std::string CanaryName(std::string_view deployment) { return TrackName(deployment, kCanaryTrack); }

std::string VersionLabelValue(std::string_view version) {
  // A label value is at most 63 characters of [-A-Za-z0-9_.], beginning and
  // ending with an alphanumeric: SemVer fits once '+' becomes '_', unless it
  // is long.
  std::string value(version);
  for (char& c : value) {
    if (c == '+') c = '_';
  }
  if (value.size() > 63) value = "h-" + ToHex(Sha256Of(std::string(version))).substr(0, 40);
  return value;
}

}  // namespace ferry::operator_
