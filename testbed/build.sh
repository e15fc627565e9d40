#!/usr/bin/env bash
# Build the real control-plane components for the test bed from the Go module proxy, once per
# machine, cached by version outside the repo:
#   $AI_INFRA_OPS_CACHE (default ~/.cache/ai-infra-ops)/testbed/<component>-<version>/bin/...
# Components: kube-apiserver, kube-scheduler, kube-controller-manager from
# k8s.io/kubernetes used as a Go module (consumer module + staging `replace` lines), kine (SQLite
# storage instead of etcd) and the KWOK controller (+ its "fast" stages). WITH_KCM=0 skips the
# controller-manager. Nothing fetched here is committed.
set -euo pipefail
K8S_VERSION=${K8S_VERSION:-v1.35.4}
KINE_VERSION=${KINE_VERSION:-v0.17.5}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
CACHE=${AI_INFRA_OPS_CACHE:-$HOME/.cache/ai-infra-ops}/testbed
export GOFLAGS=${GOFLAGS:--mod=mod}
export CGO_ENABLED=0
mkdir -p "$CACHE"

log() { printf '[testbed build %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

build_k8s() {
  local dir="$CACHE/k8s-$K8S_VERSION" staging_ver
  local want=(kube-apiserver kube-scheduler)
  [ "${WITH_KCM:-1}" = 1 ] && want+=(kube-controller-manager)
  # kubeadm: `kubeadm config validate` checks the rendered kubeadm configs (tests/unit/render).
  [ "${WITH_KUBEADM:-1}" = 1 ] && want+=(kubeadm)
  local missing=0
  for b in "${want[@]}"; do [ -x "$dir/bin/$b" ] || missing=1; done
  [ $missing = 0 ] && { log "k8s $K8S_VERSION cached"; return; }
  staging_ver="v0.${K8S_VERSION#v1.}"
  mkdir -p "$dir/src" "$dir/bin"
  cd "$dir/src"
  if [ ! -f go.mod ]; then
    go mod init example.invalid/ai-infra-ops-testbed-k8s >/dev/null 2>&1
    go mod download -json "k8s.io/kubernetes@$K8S_VERSION" >/dev/null
    local kmod; kmod=$(go env GOMODCACHE)/k8s.io/kubernetes@$K8S_VERSION
    go mod edit -require="k8s.io/kubernetes@$K8S_VERSION"
    # Every staging module k8s.io/kubernetes maps to ./staging/src/... gets the published tag.
    grep -E '^\s+k8s\.io/[a-z0-9-]+ => \./staging/' "$kmod/go.mod" | awk '{print $1}' | while read -r m; do
      go mod edit -replace="$m=$m@$staging_ver"
    done
    printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver"\n\t_ "k8s.io/kubernetes/cmd/kube-scheduler"\n\t_ "k8s.io/kubernetes/cmd/kube-controller-manager"\n\t_ "k8s.io/kubernetes/cmd/kubeadm"\n)\n' > tools.go
    go mod tidy >/dev/null
  fi
  local minor ldflags
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
  for b in "${want[@]}"; do
    [ -x "$dir/bin/$b" ] && continue
    log "building $b $K8S_VERSION"
    go build -trimpath -ldflags "$ldflags" -o "$dir/bin/$b.tmp" "k8s.io/kubernetes/cmd/$b"
    mv "$dir/bin/$b.tmp" "$dir/bin/$b"
  done
}

build_kine() {
  local dir="$CACHE/kine-$KINE_VERSION"
  [ -x "$dir/bin/kine" ] && { log "kine cached"; return; }
  log "building kine $KINE_VERSION"
  mkdir -p "$dir/bin"
  GOBIN="$dir/bin" go install "github.com/k3s-io/kine@$KINE_VERSION"
}

build_kwok() {
  local dir="$CACHE/kwok-$KWOK_VERSION"
  if [ -x "$dir/bin/kwok" ]; then log "kwok cached"; else
    log "building kwok $KWOK_VERSION"
    mkdir -p "$dir/bin"
    GOBIN="$dir/bin" go install "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  fi
  # The kwok binary needs Stage objects (--config); only kwokctl injects the "fast" profile.
  # Copy node/fast + heartbeat-with-lease + pod/fast from the module zip next to the binary.
  if [ ! -f "$dir/stages.yaml" ]; then
    local kw; kw=$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage
    [ -d "$kw" ] || go mod download "sigs.k8s.io/kwok@$KWOK_VERSION"
    for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
             pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
      cat "$kw/$f"; printf '\n---\n'
    done > "$dir/stages.yaml.tmp"
    mv "$dir/stages.yaml.tmp" "$dir/stages.yaml"
  fi
}

start=$(date +%s)
build_kine
build_kwok
build_k8s
log "done in $(( $(date +%s) - start )) s; binaries under $CACHE"
