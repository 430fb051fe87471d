#!/usr/bin/env bash
# tools.sh installs the pinned observability backends of the local stack
# (Prometheus + promtool, VictoriaLogs, Jaeger v2) into $PILLARS_TOOLS/bin.
# A binary already on the PATH at the pinned version is linked there instead of built.
# Each tool carries a version stamp, so a rerun with everything present is instant.
# All of them are Apache-2.0; they are built from source with the Go toolchain.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${PILLARS_TOOLS:-$repo/.tools}"
bin="$tools/bin"
stamps="$tools/stamps"
mkdir -p "$bin" "$stamps"

PROMETHEUS_VERSION=v0.316.0       # the Go module version of Prometheus 3.16.0
VICTORIALOGS_VERSION=v1.52.1
JAEGER_VERSION=v1.76.0            # the Go module version of Jaeger v2.13.0

log() { printf '==> %s\n' "$*" >&2; }

# current NAME VERSION BINARIES... succeeds when the stamp says VERSION and every binary exists.
current() {
	local name=$1 version=$2
	shift 2
	[[ -f "$stamps/$name" && "$(cat "$stamps/$name")" == "$version" ]] || return 1
	local b
	for b in "$@"; do [[ -x "$bin/$b" ]] || return 1; done
}

stamp() { printf '%s\n' "$2" >"$stamps/$1"; }

# from_path NAME VERSION_TEXT VERSION_ARGS... links NAME from the PATH into $bin when its
# version output contains VERSION_TEXT (release binaries print it; `go install` builds do not).
from_path() {
	local name=$1 want=$2 found
	shift 2
	found="$(command -v "$name" 2>/dev/null)" || return 1
	[[ "$found" != "$bin/$name" ]] || return 1
	"$found" "$@" 2>&1 | grep -qF -- "$want" || return 1
	ln -sf "$found" "$bin/$name"
	log "using $found ($want)"
}

# timed CMD... runs a build and reports how long it took.
timed() {
	local start=$SECONDS
	"$@"
	log "done in $((SECONDS - start))s"
}

if current prometheus "$PROMETHEUS_VERSION" prometheus promtool; then
	log "prometheus $PROMETHEUS_VERSION already installed"
elif from_path prometheus "version 3.16.0 " --version && from_path promtool "version 3.16.0 " --version; then
	stamp prometheus "$PROMETHEUS_VERSION"
else
	log "building prometheus and promtool $PROMETHEUS_VERSION (about 5 minutes the first time, ~3.5 GB memory)..."
	# One go install for both binaries: they share most of their compilation.
	timed env GOBIN="$bin" GOFLAGS=-buildvcs=false go install \
		"github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_VERSION" \
		"github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION"
	stamp prometheus "$PROMETHEUS_VERSION"
fi

if current victorialogs "$VICTORIALOGS_VERSION" victoria-logs; then
	log "victoria-logs $VICTORIALOGS_VERSION already installed"
elif from_path victoria-logs "-$VICTORIALOGS_VERSION-" -version; then
	stamp victorialogs "$VICTORIALOGS_VERSION"
else
	log "building victoria-logs $VICTORIALOGS_VERSION (about 30 seconds the first time)..."
	timed env GOBIN="$bin" GOFLAGS=-buildvcs=false go install \
		"github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$VICTORIALOGS_VERSION"
	stamp victorialogs "$VICTORIALOGS_VERSION"
fi

if current jaeger "$JAEGER_VERSION" jaeger; then
	log "jaeger $JAEGER_VERSION already installed"
elif from_path jaeger '"gitVersion":"v2.13.0"' version; then
	stamp jaeger "$JAEGER_VERSION"
else
	log "building jaeger $JAEGER_VERSION (about 4 minutes the first time, ~2.5 GB memory)..."
	# The tools module pins the version; `go get -tool` is a no-op when it already does.
	(
		cd "$repo/tools"
		if ! grep -q "github.com/jaegertracing/jaeger $JAEGER_VERSION" go.mod; then
			go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION"
		fi
		timed env GOFLAGS=-buildvcs=false go build -o "$bin/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger
	)
	stamp jaeger "$JAEGER_VERSION"
fi

log "tools ready in $bin"
