#!/usr/bin/env bash
# tools.sh installs the pinned observability backends of the local stack
# (Prometheus + promtool, VictoriaLogs, Jaeger v2) into $PILLARS_TOOLS/bin.
# Each tool carries a version stamp, so a rerun with everything present is instant.
# All of them are Apache-2.0; they are built from source with the Go toolchain.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${PILLARS_TOOLS:-$repo/.tools}"
bin="$tools/bin"
stamps="$tools/stamps"
mkdir -p "$bin" "$stamps"

PROMETHEUS_VERSION=v0.316.0       # Prometheus 3.x, module version of github.com/prometheus/prometheus
VICTORIALOGS_VERSION=v1.52.1
JAEGER_VERSION=v1.76.0            # Jaeger v2 binary, module version v1.x

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

# timed CMD... runs a build and reports how long it took.
timed() {
	local start=$SECONDS
	"$@"
	log "done in $((SECONDS - start))s"
}

if current prometheus "$PROMETHEUS_VERSION" prometheus promtool; then
	log "prometheus $PROMETHEUS_VERSION already installed"
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
else
	log "building victoria-logs $VICTORIALOGS_VERSION (about 30 seconds the first time)..."
	timed env GOBIN="$bin" GOFLAGS=-buildvcs=false go install \
		"github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$VICTORIALOGS_VERSION"
	stamp victorialogs "$VICTORIALOGS_VERSION"
fi

if current jaeger "$JAEGER_VERSION" jaeger; then
	log "jaeger $JAEGER_VERSION already installed"
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
