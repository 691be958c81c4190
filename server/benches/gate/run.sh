#!/usr/bin/env bash
# `make bench`: the publish gate of issue 10 measured against the measuring stick.
#
# Copies the harness (BENCH_HARNESS, default ../shared/bench beside the project) to a scratch
# folder, starts a release Flowgate on 127.0.0.1:18903 with a fresh SQLite file, saves the
# harness's scenario as its `event-publish` workflow (tlp:red anywhere => stop; else tlp:white on an
# attribute => webhook to the harness's sink), then runs the harness's compare.sh with Flowgate as
# a third target next to `limit` and Node-RED, and prints the table and Flowgate's peak RSS.
# Everything stays on loopback and is bounded by compare.sh's own limits.
#
# Usage: server/benches/gate/run.sh [compare.sh options]   (default: every size, white + red-attr, 3 reps)
#   BENCH_TARGETS=limit,nodered   built-in targets to compare with (default limit,nodered; empty: Flowgate alone)
#   FLOWGATE_BIN=target/release/server
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
src=${BENCH_HARNESS:-$root/../shared/bench}
work=${BENCH_WORK:-/tmp/flowgate-bench}
bin=${FLOWGATE_BIN:-$root/target/release/server}
port=18903
base="http://127.0.0.1:$port"

[ -f "$src/compare.sh" ] || { echo "no harness at $src (set BENCH_HARNESS)"; exit 1; }
[ -x "$bin" ] || { echo "no server binary at $bin (cargo build --release -p server)"; exit 1; }
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install -y wrk)"; exit 1; }

case "$work" in /tmp/?*) ;; *) echo "BENCH_WORK must be a folder under /tmp, not $work"; exit 1 ;; esac
rm -rf "$work" && mkdir -p "$work"
cp -r "$src" "$work/harness"
rm -rf "$work/harness/results"
key=$(head -c 30 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)
while [ ${#key} -lt 40 ]; do key="${key}x"; done

server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

FLOWGATE_DATABASE_URL="sqlite://$work/flowgate.db?mode=rwc" \
FLOWGATE_ADDR="127.0.0.1:$port" \
FLOWGATE_ADMIN_API_KEY="$key" \
FLOWGATE_ADMIN_PASSWORD="bench-$key" \
FLOWGATE_LOG_DIR="$work/logs" \
RUST_LOG=warn \
  "$bin" >"$work/server.log" 2>&1 &
server_pid=$!
up=0
for _ in $(seq 1 100); do
  curl -sf "$base/servers/getVersion" -H "Authorization: $key" -H 'Accept: application/json' >/dev/null && { up=1; break; }
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
[ "$up" = 1 ] || { echo "flowgate did not start (is port $port taken?):"; tail -5 "$work/server.log"; exit 1; }

api() { # METHOD PATH [JSON]
  curl -sS -f -X "$1" "$base$2" -H "Authorization: $key" -H 'Accept: application/json' \
    -H 'Content-Type: application/json' ${3:+--data-binary "$3"}
}
wid=$(api GET /workflows/editor/event-publish | python3 -c 'import json,sys; print(json.load(sys.stdin)["Workflow"]["id"])')
api POST "/workflows/edit/$wid" "{\"Workflow\": {\"data\": $(cat "$here/workflow.json")}}" >/dev/null
for s in Plugin.Workflow_enable Plugin.Workflow_triggers_event-publish Security.rest_client_enable_arbitrary_urls; do
  api POST "/servers/serverSettingsEdit/$s" '{"value": true}' >/dev/null
done
api POST /servers/serverSettingsEdit/Security.outbound_allowed_hosts '{"value": "127.0.0.1"}' >/dev/null
api POST /workflows/toggleModule/webhook/1/0 '{}' >/dev/null
echo "flowgate: workflow $wid on event-publish, server pid $server_pid"

"$work/harness/compare.sh" --targets "${BENCH_TARGETS-limit,nodered}" \
  --target "flowgate|$base/workflows/executeWorkflow/$wid|Authorization: $key;Accept: application/json" "$@"
echo "flowgate peak RSS: $(awk '/VmHWM/ {print $2, $3}' "/proc/$server_pid/status")"
