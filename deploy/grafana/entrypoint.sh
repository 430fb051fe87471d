#!/bin/sh
# Starts Grafana (the image's /run.sh) with an admin password that is never a default baked
# into an image or a file in this repository:
#   - GRAFANA_ADMIN_PASSWORD set in the environment of `docker compose up`: that one.
#   - unset: a random one, generated on the first start and kept in the grafana volume next to
#     Grafana's own database (Grafana only reads the admin password when it creates that
#     database, so the two must live and die together). Read it with
#       docker compose exec grafana cat /var/lib/grafana/pillars-admin-password
# Visitors need no password at all: anonymous access is read-only (compose.yaml).
set -eu

if [ -z "${GF_SECURITY_ADMIN_PASSWORD:-}" ]; then
	secret="${GF_PATHS_DATA:-/var/lib/grafana}/pillars-admin-password"
	if [ ! -s "$secret" ]; then
		umask 077
		# 24 characters from /dev/urandom; base64 and tr are in the image's busybox.
		head -c 32 /dev/urandom | base64 | tr -d '\n/+=' | cut -c1-24 >"$secret"
	fi
	GF_SECURITY_ADMIN_PASSWORD="$(cat "$secret")"
	export GF_SECURITY_ADMIN_PASSWORD
	echo "pillars: GRAFANA_ADMIN_PASSWORD is not set; the Grafana admin password is in $secret" \
		"(docker compose exec grafana cat $secret)" >&2
fi

exec /run.sh "$@"
