#!/usr/bin/env bash
# down.sh stops what scripts/up.sh started, by the process ids it recorded in .data/pids.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pidfile="$repo/.data/pids"

if [[ ! -s "$pidfile" ]]; then
	echo "nothing to stop (no $pidfile)"
	exit 0
fi

# Newest first: the services flush their last spans and logs while the backends still run.
mapfile -t lines < <(tac "$pidfile")
for line in "${lines[@]}"; do
	read -r name pid <<<"$line"
	if kill -0 "$pid" 2>/dev/null; then
		echo "stopping $name (pid $pid)"
		kill -TERM "$pid"
	fi
done
for line in "${lines[@]}"; do
	read -r name pid <<<"$line"
	deadline=$((SECONDS + 20))
	while kill -0 "$pid" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			echo "$name (pid $pid) did not stop in 20s; sending KILL"
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.2
	done
done
rm -f "$pidfile"
echo "stopped"
