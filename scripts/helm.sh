#!/usr/bin/env bash
# helm.sh installs the pinned Helm release into $PILLARS_TOOLS/bin/helm, built from source
# with the Go toolchain (Apache-2.0), for the chart checks (`make chart-check`).
# A helm already on the PATH at the pinned version is linked there instead of built.
# The binary carries a version stamp, so a rerun with it present is instant.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${PILLARS_TOOLS:-$repo/.tools}"
bin="$tools/bin"
stamps="$tools/stamps"
mkdir -p "$bin" "$stamps"

HELM_VERSION=v3.22.0
# The Kubernetes release of the client libraries Helm v3.22.0 is built with (k8s.io/* v0.37):
# the default cluster version of `helm template` and `helm lint`'s API deprecation checks.
# Helm's own release build sets it the same way; without it both assume Kubernetes 1.20.
KUBE_MINOR=37
STAMP="$HELM_VERSION kubernetes-1.$KUBE_MINOR"

log() { printf '==> %s\n' "$*" >&2; }

if [[ -f "$stamps/helm" && "$(cat "$stamps/helm")" == "$STAMP" && -x "$bin/helm" ]]; then
	log "helm $HELM_VERSION already installed"
	exit 0
fi

# A release binary on the PATH prints its version; link it rather than build a second copy.
if found="$(command -v helm 2>/dev/null)" && [[ "$found" != "$bin/helm" ]] &&
	"$found" version --template '{{.Version}}' 2>/dev/null | grep -qxF "$HELM_VERSION"; then
	ln -sf "$found" "$bin/helm"
	log "using $found ($HELM_VERSION)"
	printf '%s\n' "$STAMP" >"$stamps/helm"
	exit 0
fi

log "building helm $HELM_VERSION (about 2 minutes the first time)..."
start=$SECONDS
# Versions are stamped the way Helm's own release build does it, so `helm version` reports
# the pinned release and not the source tree's default.
ldflags="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
	ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$KUBE_MINOR"
done
env GOBIN="$bin" GOFLAGS=-buildvcs=false CGO_ENABLED=0 go install -ldflags "$ldflags" \
	"helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
log "done in $((SECONDS - start))s"
printf '%s\n' "$STAMP" >"$stamps/helm"
log "helm ready: $bin/helm"
