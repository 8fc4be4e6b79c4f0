# Shared by build, up and down: where the pinned binaries and the cluster state live.
# Sourced, not executed.

cluster_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions
source "$cluster_dir/versions"

# The cache key names every pinned version plus a digest of the module files and
# versions (which holds CLUSTER_BUILD_REVISION: bump it when the build recipe
# changes), so any change builds into a fresh folder instead of reusing stale binaries.
cluster_cache_key() {
  local digest
  digest=$(cat "$cluster_dir"/tools/*/go.mod "$cluster_dir"/tools/*/go.sum "$cluster_dir"/tools/etcd/main.go \
    "$cluster_dir/versions" | sha256sum | cut -c1-12)
  echo "k8s-${KUBERNETES_VERSION}-etcd-${ETCD_VERSION}-kwok-${KWOK_VERSION}-helm-${HELM_VERSION}-${digest}"
}

cluster_root_dir() {
  echo "${FERRY_CACHE_DIR:-$HOME/.cache/ferry}/cluster-$(cluster_cache_key)"
}

cluster_bin_dir() {
  echo "${FERRY_CACHE_DIR:-$HOME/.cache/ferry}/cluster-$(cluster_cache_key)/bin"
}

# Where a running cluster keeps its certificates, kubeconfig, logs and pids.
cluster_state_dir() {
  echo "${FERRY_CLUSTER_DIR:-${TMPDIR:-/tmp}/ferry-cluster-$(id -u)}"
}

die() {
  echo "error: $*" >&2
  exit 1
}
