#!/usr/bin/env bash
# bench/senders.sh: SMS throughput scales with the senders (issue 13, ADR 0033). For each
# configuration it starts the whole suite with scripts/run.sh (two sms-workers, the sandbox
# answering every request in 50 ms on 64 threads: a held answer holds its server thread, and with
# few threads the requests queued behind it would be stamped late in the ledger), offers SendAlert at 1.5 times the senders'
# pace with bench-sendalert (every alert to another recipient), and reads the sandbox's
# /sandbox/pacing over the minute after a warm-up:
#   - messages per second in all, against the configured pace (target: within 5%);
#   - the slowest and fastest sender's share of its own pace;
#   - every number's busiest one-second window of arrivals (target: never over its pace), and
#     the busiest window of 850 ms, which allows 150 ms of difference in the time two requests
#     take from the worker's send-time check to the sandbox (the pacing e2e test's allowance).
# Each run's ledger is kept in build/run/senders-CONFIGURATION-ledger.json.
# A configuration is N (N numbers at 1/s each) or mgN (one Messaging Service paced N/s whose pool
# holds N numbers). Prints a Markdown table on stdout; exits 3 when a target is missed.
#
#   bench/senders.sh [CONFIGURATION ...]      default: 1 5 20 mg5
#
# It stops a suite already running (scripts/run.sh down) and leaves none running.
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly RUN="$ROOT/build/run"
readonly SANDBOX_URL="http://${KLAXON_SANDBOX_ADDR:-127.0.0.1:9800}"
readonly SERVICE=MG0123456789abcdef0123456789abcdef
readonly WARM_UP=10 MEASURED=60

die() {
  printf 'senders: %s\n' "$*" >&2
  exit 2
}

# numbers N: N distinct long codes, comma-separated.
numbers() {
  local i out=()
  for ((i = 0; i < $1; i++)); do out+=("$(printf '+1415555%04d' $((2000 + i)))"); done
  local IFS=,
  printf '%s' "${out[*]}"
}

configs=("$@")
[[ ${#configs[@]} -gt 0 ]] || configs=(1 5 20 mg5)
[[ -x "$ROOT/build/release/bench/bench-sendalert" ]] || "$ROOT/scripts/build.sh" release
mkdir -p "$RUN"

missed=0
printf '| senders | pace set | msgs/s measured | of the pace | slowest / fastest number | busiest 1 s / 850 ms of any number | verdict |\n'
printf '|---|---|---|---|---|---|---|\n'
for config in "${configs[@]}"; do
  case "$config" in
    mg[0-9]*)
      count="${config#mg}"
      senders="$SERVICE=$count/1s"
      services="$SERVICE=$(numbers "$count")"
      ;;
    [0-9]*)
      count="$config"
      senders="$(numbers "$count" | sed 's|,|=1/1s,|g')=1/1s"
      services=""
      ;;
    *) die "configuration $config is neither N nor mgN" ;;
  esac
  "$ROOT/scripts/run.sh" down >/dev/null 2>&1 || true
  KLAXON_SMS_SENDERS="$senders" TWILIO_SANDBOX_MESSAGING_SERVICES="$services" \
    KLAXON_RUN_SMS_WORKERS=2 KLAXON_RECIPIENT_LIMITS=none TWILIO_SANDBOX_THREADS=64 \
    "$ROOT/scripts/run.sh" >"$RUN/senders-run.log" 2>&1 || die "the suite did not start: $RUN/senders-run.log"
  # shellcheck source=/dev/null
  . "$RUN/client.env"
  curl -fsS -X DELETE "$SANDBOX_URL/sandbox/ledger" >/dev/null
  curl -fsS -X POST "$SANDBOX_URL/sandbox/faults" -d '{"type":"latency","latency_ms":50}' >/dev/null
  rate=$(awk -v n="$count" 'BEGIN { r = n * 1.5; if (r < 2) r = 2; printf "%d", r }')
  "$ROOT/build/release/bench/bench-sendalert" --tls --ca "$KLAXON_CA_FILE" --rate "$rate" \
    --recipients 100000 --duration $((WARM_UP + MEASURED + 10)) --concurrency 64 >"$RUN/senders-load.jsonl" 2>/dev/null ||
    die "bench-sendalert failed: $RUN/senders-load.jsonl"
  first_ms=$(curl -fsS "$SANDBOX_URL/sandbox/ledger" |
    jq '[.[] | select(.kind == "message") | .received_at | sub("\\.[0-9]+Z$"; "Z") | fromdate] | min * 1000')
  since=$((first_ms + WARM_UP * 1000))
  until=$((since + MEASURED * 1000))
  minute=$(curl -fsS "$SANDBOX_URL/sandbox/pacing?since_ms=$since&until_ms=$until")
  busiest=$(curl -fsS "$SANDBOX_URL/sandbox/pacing?window_ms=1000" | jq '[.senders[].busiest] | max')
  busiest_850=$(curl -fsS "$SANDBOX_URL/sandbox/pacing?window_ms=850" | jq '[.senders[].busiest] | max')
  curl -fsS "$SANDBOX_URL/sandbox/ledger" >"$RUN/senders-$config-ledger.json"
  per_number=1 # messages per second: each number's pace, also in a Messaging Service's pool
  read -r total slowest fastest < <(jq -r --argjson s "$MEASURED" \
    '[.senders[].messages] as $m | "\(($m | add) / $s) \(($m | min) / $s) \(($m | max) / $s)"' <<<"$minute")
  share=$(awk -v t="$total" -v n="$count" 'BEGIN { printf "%.1f%%", 100 * t / n }')
  verdict=ok
  if ! awk -v t="$total" -v n="$count" 'BEGIN { exit !(t >= 0.95 * n && t <= 1.05 * n) }' ||
    ((busiest > per_number)); then
    verdict=MISSED
    missed=1
  fi
  printf '| %s | %s/s | %.2f | %s | %.2f / %.2f | %s / %s | %s |\n' \
    "$config" "$count" "$total" "$share" "$slowest" "$fastest" "$busiest" "$busiest_850" "$verdict"
done
"$ROOT/scripts/run.sh" down >/dev/null 2>&1 || true
exit $((missed * 3))
