#!/usr/bin/env bash
# kube-apiserver.sh installs a real Kubernetes API server and etcd into $PILLARS_TOOLS/bin for
# the chart checks' server-side dry run (`make chart-check`): kube-apiserver v1.37.2 built from
# source with the Go toolchain (the module in deploy/helm/kube-apiserver pins it), etcd from
# Debian's etcd-server package, and controller-gen, which writes the Prometheus Operator's CRDs
# from its Go types so the server can validate ServiceMonitors too. All Apache-2.0.
# Stamps record the builds, so a rerun with everything present is instant.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${PILLARS_TOOLS:-$repo/.tools}"
bin="$tools/bin"
stamps="$tools/stamps"
mkdir -p "$bin" "$stamps"

KUBERNETES_VERSION=v1.37.2
CONTROLLER_TOOLS_VERSION=v0.23.0

log() { printf '==> %s\n' "$*" >&2; }

# etcd: the API server's storage. Debian's 3.4 serves everything a dry run needs.
if [[ ! -x "$bin/etcd" ]]; then
	if ! command -v etcd >/dev/null 2>&1; then
		log "installing etcd (Debian package etcd-server)..."
		# A fresh machine may not have the package lists yet: update once, then try again.
		if ! apt-get install -y --no-install-recommends etcd-server >/dev/null 2>&1; then
			apt-get update >/dev/null &&
				apt-get install -y --no-install-recommends etcd-server >/dev/null ||
				{ log "could not install etcd-server with apt-get"; exit 1; }
		fi
	fi
	ln -sf "$(command -v etcd)" "$bin/etcd"
	log "using $(command -v etcd) ($("$bin/etcd" --version | head -1))"
fi

if [[ -f "$stamps/controller-gen" && "$(cat "$stamps/controller-gen")" == "$CONTROLLER_TOOLS_VERSION" && -x "$bin/controller-gen" ]]; then
	log "controller-gen $CONTROLLER_TOOLS_VERSION already installed"
else
	log "building controller-gen $CONTROLLER_TOOLS_VERSION (about 20 seconds)..."
	env GOBIN="$bin" GOFLAGS=-buildvcs=false go install "sigs.k8s.io/controller-tools/cmd/controller-gen@$CONTROLLER_TOOLS_VERSION"
	printf '%s\n' "$CONTROLLER_TOOLS_VERSION" >"$stamps/controller-gen"
fi

if [[ -f "$stamps/kube-apiserver" && "$(cat "$stamps/kube-apiserver")" == "$KUBERNETES_VERSION" && -x "$bin/kube-apiserver" ]]; then
	log "kube-apiserver $KUBERNETES_VERSION already installed"
	exit 0
fi

log "building kube-apiserver $KUBERNETES_VERSION (about 9 CPU-minutes and 3 GB of memory the first time)..."
start=$SECONDS
version_pkg=k8s.io/component-base/version
minor="${KUBERNETES_VERSION#v1.}"
minor="${minor%%.*}"
(
	cd "$repo/deploy/helm/kube-apiserver"
	env GOFLAGS=-buildvcs=false go build \
		-ldflags "-s -w -X $version_pkg.gitVersion=$KUBERNETES_VERSION -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=$minor" \
		-o "$bin/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
)
log "done in $((SECONDS - start))s"
printf '%s\n' "$KUBERNETES_VERSION" >"$stamps/kube-apiserver"
log "kube-apiserver ready: $bin/kube-apiserver"
