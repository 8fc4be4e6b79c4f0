// The names that become path components anywhere in Ferry — model names,
// versions, file paths inside a model — and the one set of rules for them, so
// the manifest parser, the fetcher and the store agree on what may reach the
// filesystem. None of these can climb out of the folder it is joined to.
#pragma once

#include <string_view>

#include "lib/common/result.h"

namespace ferry {

// [a-z0-9]([-a-z0-9._]*[a-z0-9])?, at most 253 characters (a DNS subdomain, as
// Kubernetes names are).
Status ValidateModelName(std::string_view model);

// A SemVer 2.0.0 version, exactly as the CRDs' pattern (crds/modelnode.yaml)
// accepts it, at most 128 characters: MAJOR.MINOR.PATCH without leading zeros,
// then an optional -pre.release and +build, identifiers of [0-9A-Za-z-] and
// numeric pre-release identifiers without leading zeros. The store, the
// manifest and the cluster must agree, or a version published here could never
// be named in a ModelVersion. Such a version never contains '/' or "..".
Status ValidateVersion(std::string_view version);

// A relative path: '/'-separated components, each non-empty, not "." or "..",
// at most 255 bytes; no leading '/', no backslash, no NUL; at most 4096 bytes.
Status ValidateRelativePath(std::string_view path);

}  // namespace ferry
