#!/usr/bin/env bash
# up.sh runs the whole system on this machine without Docker: Prometheus, VictoriaLogs
# (logs through the Loki push API) and Jaeger v2 (traces over OTLP), then `pillars all`
# pointed at them. Everything binds to 127.0.0.1; data lives in .data/ (git-ignored).
# Ctrl-C (or `make down` from another terminal) stops everything this script started.
#
# PILLARS_OTLP=1 (`make up-otlp`) also starts an OpenTelemetry Collector
# (deploy/local/otelcol.yaml) and points the services' OTLP export at it instead of at
# Jaeger; the Collector routes traces to Jaeger, metrics to Prometheus and logs to VictoriaLogs.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
tools="${PILLARS_TOOLS:-$repo/.tools}"
data="$repo/.data"
pidfile="$data/pids"

PROMETHEUS_ADDR=127.0.0.1:19090
VICTORIALOGS_ADDR=127.0.0.1:19428
JAEGER_OTLP_HTTP_ADDR=127.0.0.1:14318
JAEGER_QUERY_ADDR=127.0.0.1:16686
OTELCOL_OTLP_GRPC_ADDR=127.0.0.1:24317
OTELCOL_OTLP_HTTP_ADDR=127.0.0.1:24318
OTELCOL_HEALTH_ADDR=127.0.0.1:13133
OTELCOL_TELEMETRY_ADDR=127.0.0.1:18888
FRONTEND_ADDR=127.0.0.1:8001
BACKEND_ADDR=127.0.0.1:8002
DATABASE_ADDR=127.0.0.1:8003

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'up: %s\n' "$*" >&2; exit 1; }

case "${PILLARS_OTLP:-0}" in
1 | true | yes) otlp=1 ;;
0 | false | no | "") otlp=0 ;;
*) die "PILLARS_OTLP=$PILLARS_OTLP: want 1 (start the OpenTelemetry Collector) or 0" ;;
esac

# port_busy HOST:PORT succeeds when something already listens there.
port_busy() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }

# wait_ready NAME URL polls URL until it answers 2xx, for at most 60 seconds.
wait_ready() {
	local name=$1 url=$2 deadline=$((SECONDS + 60))
	until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			die "$name did not become ready at $url within 60s; see $data/logs/$name.log"
		fi
		if ! kill -0 "${pids[$name]}" 2>/dev/null; then
			die "$name exited; see $data/logs/$name.log"
		fi
		sleep 0.5
	done
	log "$name ready"
}

declare -A pids=()
order=()

# start NAME COMMAND... runs a command in the background, logging to .data/logs/NAME.log.
start() {
	local name=$1
	shift
	"$@" >"$data/logs/$name.log" 2>&1 &
	pids[$name]=$!
	order+=("$name")
	printf '%s %s\n' "$name" "$!" >>"$pidfile"
}

# shellcheck disable=SC2317 # called from the traps below
stop_all() {
	trap - INT TERM EXIT
	local i name
	# Reverse order: the services first, so they can flush their last spans and logs.
	for ((i = ${#order[@]} - 1; i >= 0; i--)); do
		name=${order[i]}
		kill -TERM "${pids[$name]}" 2>/dev/null || true
	done
	for name in "${order[@]}"; do
		wait "${pids[$name]}" 2>/dev/null || true
	done
	rm -f "$pidfile"
	log "stopped"
}

if [[ -s "$pidfile" ]]; then
	while read -r name pid; do
		if kill -0 "$pid" 2>/dev/null; then
			die "already running ($name, pid $pid); stop it with 'make down'"
		fi
	done <"$pidfile"
	rm -f "$pidfile"
fi
addrs=("$PROMETHEUS_ADDR" "$VICTORIALOGS_ADDR" "$JAEGER_OTLP_HTTP_ADDR" "$JAEGER_QUERY_ADDR"
	"$FRONTEND_ADDR" "$BACKEND_ADDR" "$DATABASE_ADDR")
if ((otlp)); then
	addrs+=("$OTELCOL_OTLP_GRPC_ADDR" "$OTELCOL_OTLP_HTTP_ADDR" "$OTELCOL_HEALTH_ADDR" "$OTELCOL_TELEMETRY_ADDR")
fi
for addr in "${addrs[@]}"; do
	port_busy "$addr" && die "$addr is already in use; is another stack running?"
done

"$repo/scripts/tools.sh"
log "building bin/pillars"
go build -o bin/pillars ./cmd/pillars

mkdir -p "$data/logs" "$data/prometheus" "$data/victoria-logs"
: >"$pidfile"
trap stop_all EXIT
trap 'stop_all; exit 130' INT TERM

start prometheus "$tools/bin/prometheus" \
	--config.file="$repo/deploy/local/prometheus.yml" \
	--storage.tsdb.path="$data/prometheus" \
	--web.listen-address="$PROMETHEUS_ADDR" \
	--enable-feature=exemplar-storage \
	--web.enable-remote-write-receiver
start victoria-logs "$tools/bin/victoria-logs" \
	-httpListenAddr="$VICTORIALOGS_ADDR" \
	-storageDataPath="$data/victoria-logs" \
	-retentionPeriod=7d
start jaeger "$tools/bin/jaeger" --config="$repo/deploy/local/jaeger.yaml"

wait_ready prometheus "http://$PROMETHEUS_ADDR/-/ready"
wait_ready victoria-logs "http://$VICTORIALOGS_ADDR/health"
wait_ready jaeger "http://$JAEGER_QUERY_ADDR/api/services"

# Where the services send OTLP: straight to Jaeger (traces are all they export over OTLP), or
# through the Collector, which also has pipelines for metrics and logs: OTEL_METRICS_EXPORTER=otlp
# and OTEL_LOGS_EXPORTER=otlp send those over OTLP too; they reach the services from this
# script's environment, like every OTEL_* variable.
otlp_endpoint="http://$JAEGER_OTLP_HTTP_ADDR"
if ((otlp)); then
	start otelcol env \
		OTELCOL_OTLP_GRPC="$OTELCOL_OTLP_GRPC_ADDR" \
		OTELCOL_OTLP_HTTP="$OTELCOL_OTLP_HTTP_ADDR" \
		OTELCOL_HEALTH="$OTELCOL_HEALTH_ADDR" \
		OTELCOL_TELEMETRY_PORT="${OTELCOL_TELEMETRY_ADDR##*:}" \
		OTELCOL_JAEGER_OTLP_HTTP="$JAEGER_OTLP_HTTP_ADDR" \
		OTELCOL_PROMETHEUS="$PROMETHEUS_ADDR" \
		OTELCOL_VICTORIALOGS="$VICTORIALOGS_ADDR" \
		"$tools/bin/otelcol" --config="$repo/deploy/local/otelcol.yaml"
	wait_ready otelcol "http://$OTELCOL_HEALTH_ADDR/"
	otlp_endpoint="http://$OTELCOL_OTLP_HTTP_ADDR"
fi

# VictoriaLogs keeps the Loki labels (service, level, environment) as stream fields and the
# structured metadata (trace_id, span_id) as fields. It also parses the JSON line into fields:
# the prefix keeps those apart from the labels they repeat (line.level, line.service, ...),
# and _msg_field names the line's message key, so the message shows as the log line.
loki_url="http://$VICTORIALOGS_ADDR/insert/loki/api/v1/push?_msg_field=line.msg&message_fields_prefix=line."
# With OTEL_LOGS_EXPORTER=otlp the lines go through the Collector instead: both would store each twice.
if [[ ",${OTEL_LOGS_EXPORTER:-}," == *,otlp,* ]]; then loki_url=""; fi
start pillars env \
	OTEL_EXPORTER_OTLP_ENDPOINT="$otlp_endpoint" \
	OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
	PILLARS_LOKI_URL="$loki_url" \
	PILLARS_DB_PATH="$data/pillars.db" \
	PILLARS_FRONTEND_ADDR="$FRONTEND_ADDR" \
	PILLARS_BACKEND_ADDR="$BACKEND_ADDR" \
	PILLARS_DATABASE_ADDR="$DATABASE_ADDR" \
	PILLARS_BACKEND_URL="http://$BACKEND_ADDR" \
	PILLARS_DATABASE_URL="http://$DATABASE_ADDR" \
	"$repo/bin/pillars" all
wait_ready pillars "http://$FRONTEND_ADDR/ready"

# A Prometheus built without Node.js has no UI pages (they answer 500); `make tools` with
# Node.js builds it in.
if curl -fsS -o /dev/null --max-time 2 "http://$PROMETHEUS_ADDR/query" 2>/dev/null; then
	prometheus_ui="Prometheus UI http://$PROMETHEUS_ADDR/query (graphs; alerts at /alerts, targets at /targets)"
else
	prometheus_ui="Prometheus API http://$PROMETHEUS_ADDR (this build has no web UI: rebuild it with Node.js on the PATH)"
fi
# One fresh trace to look at: the id in the traceresponse header of a request made now.
trace_id=$(curl -fsS -o /dev/null -D - --max-time 5 "http://$FRONTEND_ADDR/user/42" 2>/dev/null |
	tr -d '\r' | sed -n 's/^[Tt]raceresponse: 00-\([0-9a-f]\{32\}\)-.*/\1/p') || true
one_trace=""
if [[ -n "$trace_id" ]]; then
	one_trace="
  one trace    a request just made, as a waterfall with its log lines and exemplars:
                 bin/pillars trace $trace_id
"
fi
collector=""
if ((otlp)); then
	collector="
  collector    OpenTelemetry Collector: OTLP http://$OTELCOL_OTLP_HTTP_ADDR and $OTELCOL_OTLP_GRPC_ADDR (gRPC), the services send here
               traces -> Jaeger, metrics -> Prometheus (remote write), logs -> VictoriaLogs; its own metrics:
                 curl -s http://$OTELCOL_TELEMETRY_ADDR/metrics | grep -E '^otelcol_(receiver_accepted|exporter_sent)'
"
fi

cat <<EOT

pillars is up (traffic generator on, 2 requests/s). Logs of every process: .data/logs/

  services     frontend http://$FRONTEND_ADDR/user/42   backend http://$BACKEND_ADDR   database http://$DATABASE_ADDR
               every response has a 'traceresponse: 00-<trace id>-<span id>-01' header:
                 curl -si http://$FRONTEND_ADDR/user/42 | grep -i traceresponse

  console      http://$FRONTEND_ADDR/console: scenarios, the traffic, every service's faults, live figures

  metrics      $prometheus_ui
                 curl -s 'http://$PROMETHEUS_ADDR/api/v1/query' --data-urlencode 'query=sum by (endpoint, status) (rate(frontend_requests_total[1m]))'
                 curl -s 'http://$PROMETHEUS_ADDR/api/v1/query_exemplars' --data-urlencode 'query=frontend_requests_total' -d start=\$(( \$(date +%s) - 300 )) -d end=\$(date +%s)

  traces       Jaeger query API http://$JAEGER_QUERY_ADDR
                 curl -s http://$JAEGER_QUERY_ADDR/api/traces/<trace id>
                 curl -s http://$JAEGER_QUERY_ADDR/api/services

  logs         VictoriaLogs UI http://$VICTORIALOGS_ADDR/select/vmui/
                 curl -s http://$VICTORIALOGS_ADDR/select/logsql/query --data-urlencode 'query=trace_id:=<trace id>'
$collector$one_trace
Ctrl-C (or 'make down' in another terminal) stops everything.
EOT

# Stay in the foreground until one of the processes exits (make down stops them all) or we
# are told to stop; the EXIT trap then stops whatever still runs.
set +e
wait -n "${pids[@]}"
status=$?
set -e
for name in "${order[@]}"; do
	kill -0 "${pids[$name]}" 2>/dev/null || log "$name has exited; see $data/logs/$name.log"
done
exit "$status"
