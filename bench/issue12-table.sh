#!/usr/bin/env bash
# bench/issue12-table.sh OUT_DIR: re-measures every row of issue 12's table (bench/README.md,
# "Issue 12's table, re-measured") on the local suite, one fresh suite per row group, each warmed
# by an unmeasured run first. Stops any suite scripts/run.sh started; leaves none running. Each
# run's summary lands in OUT_DIR/<row>_<rate>.txt with the load average before it.
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$1"
OUT="$(cd "$1" && pwd)"
readonly ROOT OUT
readonly BENCH="$ROOT/build/release/bench"
cd "$ROOT"

load_env() {
  set -a
  # shellcheck disable=SC1091
  . build/run/client.env; . build/run/stack/env; . build/run/secrets.env
  set +a
}
# measure NAME COMMAND...: the load average, then the command's output, into OUT/NAME.txt.
measure() {
  local name="$1"; shift
  sleep 10
  uptime >"$OUT/$name.txt"
  "$@" >>"$OUT/$name.txt" 2>&1 || true
}
trap 'scripts/run.sh down >/dev/null 2>&1 || true' EXIT

# SendAlert and the signed status callbacks: workers and audit stopped, no backlog bound, no
# per-source webhook limit.
scripts/run.sh down >/dev/null 2>&1 || true
KLAXON_RUN_SMS_WORKERS=1 KLAXON_INTAKE_MAX_BACKLOG=0 KLAXON_WEBHOOK_RATE_LIMIT=1000000 \
  scripts/run.sh >"$OUT/suite-ingress.log" 2>&1
kill "$(cat build/run/sms-worker.pid)" "$(cat build/run/voice-worker.pid)" "$(cat build/run/audit.pid)"
load_env
sendalert=("$BENCH/bench-sendalert" --tls --ca "$KLAXON_CA_FILE" --duration 20 --concurrency 4000)
"${sendalert[@]}" --rate 500 >/dev/null 2>&1 || true
for rate in 1000 2000 3000; do measure "sendalert_$rate" "${sendalert[@]}" --rate "$rate"; done
webhook=("$BENCH/bench-webhook" --duration 20 --warmup 5 --connections 256)
"${webhook[@]}" --rate 2000 >/dev/null 2>&1 || true
for rate in 2000 5000 10000; do measure "webhook_$rate" "${webhook[@]}" --rate "$rate"; done

# GetAlert: the whole suite up and idle.
scripts/run.sh down >/dev/null 2>&1 || true
scripts/run.sh >"$OUT/suite-idle.log" 2>&1
load_env
sleep 20
getalert=("$BENCH/bench-getalert" --caller local --alerts 10000)
"${getalert[@]}" --rate 1000 --duration 10 >/dev/null 2>&1 || true
for run in 1 2; do measure "getalert_2000_$run" "${getalert[@]}" --rate 2000 --duration 30; done

# End to end: two sms-workers, the sandbox answering in 50 ms, pacing and recipient limits lifted.
scripts/run.sh down >/dev/null 2>&1 || true
KLAXON_RUN_SMS_WORKERS=2 KLAXON_WORKER_CONCURRENCY=100 TWILIO_SANDBOX_THREADS=250 \
  KLAXON_SENDER_RATE=100000/1s KLAXON_RECIPIENT_LIMITS=none TWILIO_SANDBOX_SENDER_QUEUE_LIMIT_S=0 \
  scripts/run.sh >"$OUT/suite-delivery.log" 2>&1
load_env
curl -fsS -X POST "$KLAXON_SANDBOX_URL/sandbox/faults" -H 'content-type: application/json' \
  -d '{"type":"latency","latency_ms":50}' >/dev/null
sleep 20
"$BENCH/bench-delivery" --rate 200 --duration 30 >/dev/null 2>&1 || true
for rate in 200 500; do
  sleep 30
  measure "delivery_$rate" "$BENCH/bench-delivery" --rate "$rate" --duration 60
  uptime >>"$OUT/delivery_$rate.txt"
done
echo "issue12-table: results in $OUT" >&2
