#!/usr/bin/env bash
# tools.sh installs the pinned programs of the local stack into $PILLARS_TOOLS/bin:
# Prometheus + promtool (with the web UI), VictoriaLogs, Jaeger v2 and an OpenTelemetry
# Collector. All of them are Apache-2.0 and built from source with the Go toolchain; the
# Prometheus UI is built with Node.js and packages from the npm registry, as Prometheus's own
# build does.
#
#   scripts/tools.sh                 everything
#   scripts/tools.sh otelcol jaeger  only those (prometheus, victorialogs, jaeger, otelcol)
#
# A binary already on the PATH at the pinned version is linked instead of built (not the
# Collector: its set of components is this repository's). Each tool carries a version stamp,
# so a rerun with everything present is instant. The output of every build goes to
# $PILLARS_TOOLS/logs/TOOL.log; the terminal gets a line per stage, a progress line every 30
# seconds, and the end of the log when a build fails.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${PILLARS_TOOLS:-$repo/.tools}"
bin="$tools/bin"
stamps="$tools/stamps"
logs="$tools/logs"
build="$tools/build"
cache="$tools/cache"
mkdir -p "$bin" "$stamps" "$logs" "$build" "$cache"
# Exactly the pinned modules: no workspace file of the caller's, no VCS stamping.
export GOWORK=off
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-buildvcs=false"

PROMETHEUS_VERSION=v0.316.0       # the Go module version of Prometheus 3.16.0
PNPM_VERSION=12.4.2               # builds Prometheus's UI (its own CI takes pnpm < 13)
VICTORIALOGS_VERSION=v1.52.1
JAEGER_VERSION=v1.75.0            # the Go module version of Jaeger v2.12.0 (v1.76.0 is served but not an approved release)
OTELCOL_BUILDER_VERSION=v0.165.0  # tools/otelcol/builder-config.yaml pins the Collector's components
OTELCOL_MANIFEST="$repo/tools/otelcol/builder-config.yaml"

all_tools=(prometheus victorialogs jaeger otelcol)
selected=("$@")
((${#selected[@]})) || selected=("${all_tools[@]}")
for name in "${selected[@]}"; do
	if [[ " ${all_tools[*]} " != *" $name "* ]]; then
		printf 'tools: unknown tool %q (known: %s)\n' "$name" "${all_tools[*]}" >&2
		exit 2
	fi
done

log() { printf '==> %s\n' "$*" >&2; }

# duration SECONDS prints 1m05s or 42s.
duration() {
	if (($1 >= 60)); then printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); else printf '%ds' "$1"; fi
}

# The build running in the background, stopped with the script. Without job control a
# background command ignores SIGINT, so after Ctrl-C it would otherwise go on alone.
child=""
# shellcheck disable=SC2317 # called from the traps
stop_child() { if [[ -n "$child" ]]; then kill "$child" 2>/dev/null || true; fi; }
trap stop_child EXIT
trap 'stop_child; exit 130' INT TERM

# compiled LOG FROM counts the packages `go build -v` has compiled so far: the lines after line
# FROM that are bare import paths (module downloads and errors have spaces or colons).
compiled() { tail -n +"$(($2 + 1))" "$1" | grep -cE '^[[:alnum:]._~/-]+$' || true; }

# stage TOOL WHAT COMMAND... runs one stage of a build with its output appended to the tool's
# log, and says every 30 seconds how long it has run (and, for `go build -v`, how many packages
# it has compiled), and at the end how long it took. A failure prints the end of the log and
# stops the script.
stage() {
	local name=$1 what=$2
	shift 2
	local logfile="$logs/$name.log" start=$SECONDS from next progress status=0
	log "  $name: $what"
	printf '\n### %s\n### %s\n' "$what" "$*" >>"$logfile"
	from=$(wc -l <"$logfile")
	"$@" >>"$logfile" 2>&1 &
	child=$!
	next=$((SECONDS + 30))
	while kill -0 "$child" 2>/dev/null; do
		sleep 1
		if ((SECONDS >= next)); then
			next=$((SECONDS + 30))
			progress=""
			if [[ " $* " == *" -v "* ]]; then progress=", $(compiled "$logfile" "$from") packages compiled"; fi
			log "  $name: still $what ($(duration $((SECONDS - start)))$progress)"
		fi
	done
	wait "$child" || status=$?
	child=""
	if ((status != 0)); then
		log "$name: $what failed (exit status $status) after $(duration $((SECONDS - start))); the end of $logfile:"
		grep -vE '^go: downloading |^[[:alnum:]._~/-]+$' "$logfile" | tail -n 60 >&2
		exit 1
	fi
	if ((SECONDS - start >= 10)); then log "  $name: $what took $(duration $((SECONDS - start)))"; fi
}

# in_dir DIR COMMAND... runs COMMAND in DIR.
in_dir() { (cd "$1" && shift && "$@"); }

# go_compile TOOL DIR PACKAGES -- GO_BUILD_FLAGS... lists what a build of PACKAGES in DIR
# involves (which downloads the modules), then runs `go build -v` on them there.
go_compile() {
	local name=$1 dir=$2 pkgs=() deps="$build/$1.deps"
	shift 2
	while (($#)) && [[ $1 != -- ]]; do pkgs+=("$1"); shift; done
	shift
	# shellcheck disable=SC2016 # expanded by the inner shell
	stage "$name" "downloading modules" in_dir "$dir" sh -c 'go list -deps "$@" >"$0"' "$deps" "${pkgs[@]}"
	log "  $name: $(wc -l <"$deps" | tr -d ' ') packages, the standard library included (those already in the Go build cache are not compiled again)"
	stage "$name" "compiling" in_dir "$dir" go build -v "$@" "${pkgs[@]}"
}

# current NAME STAMP BINARIES... succeeds when the stamp says STAMP and every binary exists.
current() {
	local name=$1 want=$2
	shift 2
	[[ -f "$stamps/$name" && "$(cat "$stamps/$name")" == "$want" ]] || return 1
	local b
	for b in "$@"; do [[ -x "$bin/$b" ]] || return 1; done
}

stamp() { printf '%s\n' "$2" >"$stamps/$1"; }

# from_path NAME VERSION_TEXT VERSION_ARGS... links NAME from the PATH into $bin when its
# version output contains VERSION_TEXT (release binaries print it; source builds do not).
from_path() {
	local name=$1 want=$2 found
	shift 2
	found="$(type -P "$name")" || return 1
	[[ "$found" != "$bin/$name" ]] || return 1
	"$found" "$@" 2>&1 | grep -qF -- "$want" || return 1
	ln -sf "$found" "$bin/$name"
	log "  using $found ($want)"
}

# --- Prometheus -------------------------------------------------------------------------------

# node_ok succeeds when Node.js and npm can build the Prometheus UI: Vite 8 needs Node.js
# 20.19 or newer on the 20 line, 22.12 or newer after it.
node_ok() {
	type -P node >/dev/null && type -P npm >/dev/null || return 1
	node -e '
		const [maj, min] = process.versions.node.split(".").map(Number);
		process.exit((maj === 20 && min >= 19) || (maj === 22 && min >= 12) || maj > 22 ? 0 : 1);'
}

prometheus_stamp() {
	if node_ok; then
		echo "$PROMETHEUS_VERSION ui=mantine-ui pnpm=$PNPM_VERSION"
	else
		echo "$PROMETHEUS_VERSION ui=none"
	fi
}

# The UI's lock file names @mantine/code-highlight 9.7.2, which the npm registry does not
# serve (404 for the version and for its tarball; 9.6.2 is the newest it has). pnpm's own
# override mechanism puts 9.6.2 in its place. The release-age policy of the workspace checks
# every locked version against the registry before anything else, so the missing one is
# exempted from it. prometheus_ui_lock_check then proves nothing else moved.
prometheus_ui_patch() {
	cp pnpm-lock.yaml pnpm-lock.yaml.orig
	awk '{ print } /^minimumReleaseAgeExclude:/ { print "  - '\''@mantine/code-highlight@9.7.2'\''" }' \
		pnpm-workspace.yaml >pnpm-workspace.yaml.new
	printf "overrides:\n  '@mantine/code-highlight': 9.6.2\n" >>pnpm-workspace.yaml.new
	mv pnpm-workspace.yaml.new pnpm-workspace.yaml
}

# prometheus_ui_lock_check fails unless the installed packages are exactly the locked ones but
# for the one override.
prometheus_ui_lock_check() {
	local packages='/^packages:/ { p = 1; next } /^snapshots:/ { p = 0 } p && /^  [^ ]/'
	local want got
	want=$(awk "$packages" pnpm-lock.yaml.orig |
		sed "s/'@mantine\/code-highlight@9.7.2':/'@mantine\/code-highlight@9.6.2':/" | sort)
	got=$(awk "$packages" pnpm-lock.yaml | sort)
	if [[ -z "$got" || "$want" != "$got" ]]; then
		echo "the UI's packages differ from its lock file beyond the code-highlight override:"
		diff <(echo "$want") <(echo "$got") || true
		return 1
	fi
	echo "$(echo "$got" | wc -l) packages, as locked (@mantine/code-highlight 9.6.2 for 9.7.2)"
}

# prometheus_ui SRC builds the web UI of the Prometheus source in SRC the way its Makefile's
# `assets` and `assets-compress` targets do: pnpm install in web/ui, build the PromQL editor
# modules and the app with Vite (web/ui/build_ui.sh), then gzip the result into web/ui/static
# and list it in web/ui/embed.go for the builtinassets build tag. Only the current UI is built:
# the old React UI, served only with --enable-feature=old-ui, would double the install.
prometheus_ui() {
	local src=$1 ui=$1/web/ui pnpm_dir="$build/pnpm-$PNPM_VERSION"
	if [[ ! -x "$pnpm_dir/node_modules/.bin/pnpm" ]]; then
		stage prometheus "installing pnpm $PNPM_VERSION" \
			npm install --prefix "$pnpm_dir" --cache "$cache/npm" --no-fund --no-audit \
			--ignore-scripts --save-exact "pnpm@$PNPM_VERSION"
	fi
	local -x PATH="$pnpm_dir/node_modules/.bin:$PATH"
	in_dir "$ui" prometheus_ui_patch
	# The package store and pnpm's metadata cache (under XDG_CACHE_HOME) stay in $PILLARS_TOOLS.
	stage prometheus "installing the UI's npm packages" in_dir "$ui" env XDG_CACHE_HOME="$cache" \
		pnpm install --no-frozen-lockfile --reporter=append-only --store-dir="$cache/pnpm-store"
	stage prometheus "checking them against the lock file" in_dir "$ui" prometheus_ui_lock_check
	# CI= as in Prometheus's Makefile: its UI build is not meant to run in CI mode.
	stage prometheus "building the UI (PromQL editor modules, then the app with Vite)" \
		in_dir "$ui" env CI= bash build_ui.sh --mantine-ui
	stage prometheus "compressing the UI for embedding" in_dir "$src" bash scripts/compress_assets.sh
}

build_prometheus() {
	local want src="$build/prometheus-$PROMETHEUS_VERSION" dir tags=() version
	want=$(prometheus_stamp)
	if current prometheus "$want" prometheus promtool; then
		log "  prometheus $PROMETHEUS_VERSION already installed"
		return
	fi
	if from_path prometheus "version 3.16.0 " --version && from_path promtool "version 3.16.0 " --version; then
		stamp prometheus "$want"
		return
	fi
	: >"$logs/prometheus.log"
	stage prometheus "downloading the module's source" \
		go mod download github.com/prometheus/prometheus@"$PROMETHEUS_VERSION"
	dir=$(go mod download -json github.com/prometheus/prometheus@"$PROMETHEUS_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	# The module cache is read-only and the UI build writes into the tree: build a copy.
	rm -rf "$src"
	cp -R "$dir" "$src"
	chmod -R u+w "$src"
	version=$(cat "$src/VERSION")
	if node_ok; then
		prometheus_ui "$src"
		tags=(-tags builtinassets)
	else
		log "  prometheus: no Node.js >= 20.19 with npm on the PATH: building without the web UI (the HTTP API is complete)"
	fi
	# One build for both binaries: they share most of their compilation.
	go_compile prometheus "$src" ./cmd/prometheus ./cmd/promtool -- "${tags[@]}" -o "$bin/" \
		-ldflags "-X github.com/prometheus/common/version.Version=$version -X github.com/prometheus/common/version.Branch=$PROMETHEUS_VERSION"
	stamp prometheus "$want"
	rm -rf "$src"
}

# --- VictoriaLogs -----------------------------------------------------------------------------

build_victorialogs() {
	if current victorialogs "$VICTORIALOGS_VERSION" victoria-logs; then
		log "  victoria-logs $VICTORIALOGS_VERSION already installed"
		return
	fi
	if from_path victoria-logs "-$VICTORIALOGS_VERSION-" -version; then
		stamp victorialogs "$VICTORIALOGS_VERSION"
		return
	fi
	: >"$logs/victorialogs.log"
	stage victorialogs "compiling" env GOBIN="$bin" go install -v \
		"github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$VICTORIALOGS_VERSION"
	stamp victorialogs "$VICTORIALOGS_VERSION"
}

# --- Jaeger -----------------------------------------------------------------------------------

build_jaeger() {
	# The stamp names the tools module's whole dependency set, not only Jaeger's version: a
	# Jaeger built against other Collector modules than its own go.mod asks for fails at start
	# ("otelcol.Factories.Telemetry must not be nil"), so any change there rebuilds it.
	local want
	want="$JAEGER_VERSION $(sha256sum "$repo/tools/go.sum" | cut -c1-16)"
	if current jaeger "$want" jaeger; then
		log "  jaeger $JAEGER_VERSION already installed"
		return
	fi
	if from_path jaeger '"gitVersion":"v2.12.0"' version; then
		stamp jaeger "$want"
		return
	fi
	: >"$logs/jaeger.log"
	# `go install pkg@version` refuses Jaeger (its go.mod has a replace directive): the tools
	# module pins it. Changing the pin takes a fresh module (`go get -tool` on the old one
	# keeps the newer Collector modules of the old pin), so a mismatch stops here.
	if ! grep -q "github.com/jaegertracing/jaeger $JAEGER_VERSION" "$repo/tools/go.mod"; then
		log "tools/go.mod does not pin jaeger $JAEGER_VERSION: recreate it with only the module line, then go get -tool github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION and go mod tidy"
		exit 1
	fi
	go_compile jaeger "$repo/tools" github.com/jaegertracing/jaeger/cmd/jaeger -- -o "$bin/jaeger"
	stamp jaeger "$want"
}

# --- OpenTelemetry Collector ------------------------------------------------------------------

otelcol_stamp() { echo "builder=$OTELCOL_BUILDER_VERSION manifest=$(cksum <"$OTELCOL_MANIFEST" | tr ' ' -)"; }

# build_otelcol builds the Collector that tools/otelcol/builder-config.yaml describes: the
# OpenTelemetry Collector Builder writes its sources and go.mod (and downloads the modules),
# then `go build` compiles them with the flags the builder itself would use (no cgo, trimmed
# paths, stripped), so that the compilation can show its progress.
build_otelcol() {
	local want src="$build/otelcol" builder="$build/ocb-$OTELCOL_BUILDER_VERSION/builder"
	want=$(otelcol_stamp)
	if current otelcol "$want" otelcol; then
		log "  otelcol $OTELCOL_BUILDER_VERSION already installed"
		return
	fi
	: >"$logs/otelcol.log"
	if [[ ! -x "$builder" ]]; then
		stage otelcol "building the Collector Builder $OTELCOL_BUILDER_VERSION" \
			env GOBIN="${builder%/*}" go install "go.opentelemetry.io/collector/cmd/builder@$OTELCOL_BUILDER_VERSION"
	fi
	rm -rf "$src"
	stage otelcol "generating the sources (tools/otelcol/builder-config.yaml)" \
		"$builder" --config="$OTELCOL_MANIFEST" --output-path="$src" --skip-compilation
	CGO_ENABLED=0 go_compile otelcol "$src" . -- -trimpath -ldflags="-s -w" -o "$bin/otelcol"
	stamp otelcol "$want"
}

total_start=$SECONDS
n=0
for name in "${selected[@]}"; do
	n=$((n + 1))
	case $name in
	# Cold times seen on a busy 2-core machine, with empty Go caches, in this order.
	prometheus) what="prometheus + promtool $PROMETHEUS_VERSION with the web UI (cold: about 11 min)" ;;
	victorialogs) what="victoria-logs $VICTORIALOGS_VERSION (cold: under a minute)" ;;
	jaeger) what="jaeger $JAEGER_VERSION (cold: about 8 min)" ;;
	otelcol) what="otelcol, an OpenTelemetry Collector of release $OTELCOL_BUILDER_VERSION (cold: about 4 min)" ;;
	esac
	log "[$n/${#selected[@]}] $what"
	start=$SECONDS
	"build_$name"
	if ((SECONDS - start > 1)); then log "  $name ready in $(duration $((SECONDS - start)))"; fi
done
log "tools ready in $bin ($(duration $((SECONDS - total_start))))"
