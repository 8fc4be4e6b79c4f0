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

std::string CanaryName(std::string_view deployment) { return std::string(deployment) + "-canary"; }

}  // namespace ferry::operator_
