#!/usr/bin/env bash
# test-deps.sh installs the system packages that `make test` needs and Go cannot build:
# Debian's PostgreSQL server (the database and contract tests start their own server from its
# initdb and postgres) and Debian's Chromium (the browser tests drive it headless). Each is
# installed only when missing, so a rerun is instant; nothing is started here.
#
# Installing needs root or sudo and apt-get (Debian or Ubuntu). Elsewhere, install PostgreSQL
# and Chromium yourself: PILLARS_CHROMIUM names a Chromium binary that is not on the PATH.
set -euo pipefail

log() { printf '==> %s\n' "$*" >&2; }

missing=()
if ! command -v initdb >/dev/null && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
	missing+=(postgresql)
fi
if [[ -z "${PILLARS_CHROMIUM:-}" ]] && ! command -v chromium >/dev/null; then
	missing+=(chromium)
fi
((${#missing[@]})) || exit 0

sudo=()
if [[ "$(id -u)" != 0 ]]; then
	command -v sudo >/dev/null || { log "test-deps: need root or sudo to install ${missing[*]}"; exit 1; }
	sudo=(sudo)
fi
command -v apt-get >/dev/null || { log "test-deps: no apt-get here: install ${missing[*]} yourself"; exit 1; }

log "test-deps: installing ${missing[*]} with apt-get (once)"
start=$SECONDS
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
log "test-deps: installed ${missing[*]} in $((SECONDS - start))s"
