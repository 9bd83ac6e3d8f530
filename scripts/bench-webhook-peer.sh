#!/usr/bin/env bash
# Klaxon's webhook ingress against a plain Node.js implementation of the same contract
# (bench/node-webhook), side by side in one run: one private Kafka + Redis + Postgres
# (scripts/stack.sh), both servers up at once on their own loopback ports against that Kafka and
# Redis (own topic prefixes and Redis key prefixes), and build/release/bench/bench-webhook driving
# each in turn at every rate, Klaxon then Node at one rate before moving to the next, so both see
# the same machine at the same time. Prints a table of rate -> achieved, p50, p99, errors for both,
# the highest rate each sustains with p99 <= --p99-target, and the ratio.
#
#   scripts/bench-webhook-peer.sh [--rates "1000 2000 4000 8000 10000"] [--duration 30]
#       [--warmup 5] [--connections 128] [--replay-fraction 0.02] [--settle 5] [--p99-target 10]
#       [--with-batched] [--only klaxon|node|node-batched] [--peer-workers N] [--no-skip]
#       [--prime 15] [--prime-rate 200] [--dir DIR] [--keep]
#
# Before the first measured run every server gets --prime seconds of load at --prime-rate, not
# measured, so the first rate does not pay for a cold Kafka JVM, V8's JIT or empty pools.
# --with-batched adds a third server: the same Node peer with PEER_BATCH=1 (the sends of requests
# that arrive while one is in flight go out together; see bench/node-webhook/README.md).
# Once a server falls short at a rate (bench-webhook exit 1: a non-2xx answer or under 95% of the
# rate) its higher rates are skipped: it already failed below them, and a run far over a server's
# capacity lasts (offered / capacity) times --duration. --no-skip runs them anyway.
#
# Needs build/release (klaxon-ingress, klaxon-admin, bench-webhook), Node >= 20, npm and jq.
# Each run's JSON line and summary stay in DIR/results (DIR: --dir, else a new
# /tmp/klaxon-bench-peer-*); DIR is removed on exit unless --keep or --dir was given. Everything
# started here is stopped on exit, whatever the cause.
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly BIN="$ROOT/build/release"
readonly PEER_DIR="$ROOT/bench/node-webhook"
readonly AUTH_TOKEN=sandbox-token

rates="1000 2000 4000 8000 10000"
duration=30
warmup=5
connections=128
replay_fraction=0.02
settle=5
p99_target=10
only=""
peer_workers=""
with_batched=0
skip=1
prime=15
prime_rate=200
dir=""
keep=0

log() { printf 'bench-webhook-peer: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}
usage() {
  awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}" >&2
  exit 2
}

while (($#)); do
  case "$1" in
    --rates) rates="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --replay-fraction) replay_fraction="$2"; shift 2 ;;
    --settle) settle="$2"; shift 2 ;;
    --p99-target) p99_target="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --peer-workers) peer_workers="$2"; shift 2 ;;
    --with-batched) with_batched=1; shift ;;
    --no-skip) skip=0; shift ;;
    --prime) prime="$2"; shift 2 ;;
    --prime-rate) prime_rate="$2"; shift 2 ;;
    --dir) dir="$2"; keep=1; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) usage ;;
    *) log "unknown argument: $1"; usage ;;
  esac
done
[[ -z "$only" || "$only" =~ ^(klaxon|node|node-batched)$ ]] ||
  die "--only takes klaxon, node or node-batched"
impls=(klaxon node)
((with_batched)) && impls+=(node-batched)
[[ -n "$only" ]] && impls=("$only")

for tool in node npm jq curl perl; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
for binary in services/ingress/klaxon-ingress tools/klaxon-admin/klaxon-admin bench/bench-webhook; do
  [[ -x "$BIN/$binary" ]] || die "$BIN/$binary is missing: build the release tree first"
done

if [[ -z "$dir" ]]; then dir="$(mktemp -d /tmp/klaxon-bench-peer-XXXXXX)"; fi
mkdir -p "$dir/logs" "$dir/results"
# The postgres user must be able to reach DIR/stack/pg (mktemp -d makes DIR 0700).
chmod 755 "$dir"
dir="$(cd "$dir" && pwd)"
readonly STACK="$dir/stack"

INGRESS_PID=""
PEER_PID=""
BATCHED_PID=""
# stop_pid PID NAME: SIGTERM, then SIGKILL after 20 s (both servers drain on SIGTERM).
stop_pid() {
  local pid="$1" name="$2" deadline=$((SECONDS + 20))
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "$name (pid $pid) ignored SIGTERM for 20 s, killing it"
      kill -KILL "$pid" 2>/dev/null || true
      # The peer's workers are its children; they would outlive a killed primary.
      pkill -KILL -P "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local code=$?
  trap - EXIT INT TERM
  stop_pid "$BATCHED_PID" node-peer-batched
  stop_pid "$PEER_PID" node-peer
  stop_pid "$INGRESS_PID" klaxon-ingress
  "$ROOT/scripts/stack.sh" down "$STACK" || true
  if ((keep)); then
    log "results and logs kept in $dir"
  else
    rm -rf "$dir"
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_ports() {
  perl -MIO::Socket::INET -e '
    my @socks = map {
      IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Proto => "tcp", Listen => 1)
        or die "cannot bind a loopback port: $!\n"
    } 1..$ARGV[0];
    print join(" ", map { $_->sockport } @socks), "\n";' "$1"
}

# wait_http NAME PID URL: until URL answers anything (an unsigned request is refused, which is
# enough to know the server listens), or fail with the tail of NAME's log.
wait_http() {
  local name="$1" pid="$2" url="$3" deadline=$((SECONDS + 60))
  until curl -s -o /dev/null "$url" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$dir/logs/$name.log" >&2 || true
      die "$name exited; its log is $dir/logs/$name.log"
    fi
    ((SECONDS < deadline)) || die "$name is not serving after 60 s; see $dir/logs/$name.log"
    sleep 0.2
  done
}

# CPU ticks (user + system) used so far by PID and its children (the peer's workers).
cpu_ticks() {
  local total=0 pid fields
  for pid in "$1" $(pgrep -P "$1" 2>/dev/null || true); do
    # Fields after the ")" that ends the command name: utime is the 12th, stime the 13th.
    fields="$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null)" || continue
    read -r -a f <<<"$fields"
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}
readonly CLK_TCK="$(getconf CLK_TCK)"

# --- the shared stack -----------------------------------------------------------------------
log "starting Kafka, Redis and Postgres in $STACK"
"$ROOT/scripts/stack.sh" up "$STACK" 2>"$dir/logs/stack.log" || {
  cat "$dir/logs/stack.log" >&2
  die "scripts/stack.sh up failed"
}
set -a
. "$STACK/env"
set +a
readonly KLAXON_PREFIX=bench-klaxon. NODE_PREFIX=bench-node. BATCHED_PREFIX=bench-nodeb.
for prefix in "$KLAXON_PREFIX" "$NODE_PREFIX" "$BATCHED_PREFIX"; do
  KLAXON_TOPIC_PREFIX="$prefix" "$BIN/tools/klaxon-admin/klaxon-admin" create-topics \
    >>"$dir/logs/create-topics.log" 2>&1 || {
    cat "$dir/logs/create-topics.log" >&2
    die "klaxon-admin create-topics failed"
  }
done
readonly TOPIC_SUFFIX=klaxon.twilio.events

# --- the Node peer's dependencies -----------------------------------------------------------
if [[ ! -f "$PEER_DIR/node_modules/.package-lock.json" ||
  "$PEER_DIR/package-lock.json" -nt "$PEER_DIR/node_modules/.package-lock.json" ]]; then
  log "installing the Node peer's dependencies (npm ci)"
  (cd "$PEER_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

read -r webhook_port grpc_port admin_port peer_port batched_port http_api_port < <(free_ports 6)

# --- Klaxon's ingress -----------------------------------------------------------------------
# As scripts/run.sh configures it, but with the per-source limit lifted (every request comes from
# one address; 200/s would refuse the load with 429) and throwaway secrets (no SendAlert here).
env -i PATH="$PATH" HOME="$HOME" \
  KLAXON_KAFKA_BROKERS="$KLAXON_KAFKA_BROKERS" \
  KLAXON_REDIS_URL="$KLAXON_REDIS_URL" \
  KLAXON_REDIS_KEY_PREFIX="$KLAXON_PREFIX" \
  KLAXON_TOPIC_PREFIX="$KLAXON_PREFIX" \
  KLAXON_PII_HMAC_KEY="$(openssl rand -hex 32)" \
  KLAXON_TRANSIT_KEYRING="{\"current\": 1, \"keys\": {\"1\": \"$(openssl rand -base64 32)\"}}" \
  KLAXON_API_KEYS="bench=$(openssl rand -hex 32)" \
  KLAXON_GRPC_PLAINTEXT=true \
  KLAXON_GRPC_ADDR="127.0.0.1:$grpc_port" \
  KLAXON_ADMIN_ADDR="127.0.0.1:$admin_port" \
  KLAXON_WEBHOOK_ADDR="127.0.0.1:$webhook_port" \
  KLAXON_HTTP_API_ADDR="127.0.0.1:$http_api_port" \
  KLAXON_WEBHOOK_PUBLIC_URL="http://127.0.0.1:$webhook_port" \
  KLAXON_TWILIO_AUTH_TOKEN="$AUTH_TOKEN" \
  KLAXON_WEBHOOK_RATE_LIMIT=1000000 \
  KLAXON_LOG_LEVEL=warn \
  setsid "$BIN/services/ingress/klaxon-ingress" >"$dir/logs/klaxon-ingress.log" 2>&1 </dev/null &
INGRESS_PID=$!
log "started klaxon-ingress (pid $INGRESS_PID) on http://127.0.0.1:$webhook_port"

# --- the Node peer(s) ----------------------------------------------------------------------
# start_peer NAME PORT PREFIX BATCH: prints the pid.
start_peer() {
  env -i PATH="$PATH" HOME="$HOME" NODE_ENV=production \
    PEER_LISTEN="127.0.0.1:$2" \
    PEER_PUBLIC_URL="http://127.0.0.1:$2" \
    PEER_AUTH_TOKEN="$AUTH_TOKEN" \
    PEER_REDIS_URL="$KLAXON_REDIS_URL" \
    PEER_REDIS_PREFIX="$3" \
    PEER_KAFKA_BROKERS="$KLAXON_KAFKA_BROKERS" \
    PEER_TOPIC="$3$TOPIC_SUFFIX" \
    PEER_BATCH="$4" \
    ${peer_workers:+PEER_WORKERS="$peer_workers"} \
    setsid node "$PEER_DIR/server.js" >"$dir/logs/$1.log" 2>&1 </dev/null &
  echo $!
}
# wait_peer NAME PID: until the primary reports every worker listening.
wait_peer() {
  local deadline=$((SECONDS + 60))
  until grep -q '"event":"ready"' "$dir/logs/$1.log"; do
    kill -0 "$2" 2>/dev/null || {
      tail -n 20 "$dir/logs/$1.log" >&2
      die "$1 exited; its log is $dir/logs/$1.log"
    }
    ((SECONDS < deadline)) || die "$1 is not ready after 60 s"
    sleep 0.2
  done
}
PEER_PID="$(start_peer node-peer "$peer_port" "$NODE_PREFIX" 0)"
log "started the Node peer (pid $PEER_PID) on http://127.0.0.1:$peer_port"
if ((with_batched)); then
  BATCHED_PID="$(start_peer node-peer-batched "$batched_port" "$BATCHED_PREFIX" 1)"
  log "started the batched Node peer (pid $BATCHED_PID) on http://127.0.0.1:$batched_port"
fi

wait_http klaxon-ingress "$INGRESS_PID" "http://127.0.0.1:$admin_port/readyz"
wait_http klaxon-ingress "$INGRESS_PID" "http://127.0.0.1:$webhook_port/twilio/messages/status"
wait_peer node-peer "$PEER_PID"
((with_batched)) && wait_peer node-peer-batched "$BATCHED_PID"

declare -A URL=([klaxon]="http://127.0.0.1:$webhook_port" [node]="http://127.0.0.1:$peer_port"
  [node-batched]="http://127.0.0.1:$batched_port")
declare -A PID=([klaxon]="$INGRESS_PID" [node]="$PEER_PID" [node-batched]="$BATCHED_PID")
declare -A TOPIC=([klaxon]="$KLAXON_PREFIX$TOPIC_SUFFIX" [node]="$NODE_PREFIX$TOPIC_SUFFIX"
  [node-batched]="$BATCHED_PREFIX$TOPIC_SUFFIX")
declare -A FAILED_AT=()

# The contract, checked on both before any load: an unsigned callback is refused with 403.
for impl in "${impls[@]}"; do
  status="$(curl -s -o /dev/null -w '%{http_code}' -X POST \
    -H 'Content-Type: application/x-www-form-urlencoded' -H 'X-Twilio-Signature: AAAA' \
    --data 'MessageSid=SM0&MessageStatus=sent' "${URL[$impl]}/twilio/messages/status")"
  [[ "$status" == 403 ]] || die "$impl answered $status, not 403, to a badly signed callback"
done

# --- the runs -------------------------------------------------------------------------------
if (($(awk -v p="$prime" 'BEGIN { print (p > 0) }'))); then
  for impl in "${impls[@]}"; do
    log "priming $impl: ${prime} s at ${prime_rate}/s, not measured"
    "$BIN/bench/bench-webhook" --url "${URL[$impl]}" --auth-token "$AUTH_TOKEN" \
      --rate "$prime_rate" --duration "$prime" --warmup 0 --connections "$connections" \
      >"$dir/logs/prime-$impl.json" 2>"$dir/logs/prime-$impl.log" || true
  done
  sleep "$settle"
fi
log "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
log "each run: bench-webhook --rate R --duration $duration --warmup $warmup" \
  "--connections $connections --replay-fraction $replay_fraction"
for rate in $rates; do
  for impl in "${impls[@]}"; do
    if [[ -n "${FAILED_AT[$impl]:-}" ]]; then
      log "  $impl at $rate/s: skipped (fell short at ${FAILED_AT[$impl]}/s)"
      continue
    fi
    out="$dir/results/$impl-$rate"
    load_before="$(cut -d' ' -f1 /proc/loadavg)"
    server_before="$(cpu_ticks "${PID[$impl]}")"
    kafka_before="$(cpu_ticks "$KLAXON_STACK_KAFKA_PID")"
    redis_before="$(cpu_ticks "$KLAXON_STACK_REDIS_PID")"
    started=$(date +%s.%N)
    rc=0
    "$BIN/bench/bench-webhook" --url "${URL[$impl]}" --auth-token "$AUTH_TOKEN" \
      --rate "$rate" --duration "$duration" --warmup "$warmup" --connections "$connections" \
      --replay-fraction "$replay_fraction" >"$out.json" 2>"$out.log" || rc=$?
    ended=$(date +%s.%N)
    if [[ ! -s "$out.json" ]]; then
      cat "$out.log" >&2
      die "bench-webhook against $impl at $rate/s printed no result (exit $rc)"
    fi
    # The whole bench-webhook run (preparation and warm-up included) is the CPU window.
    jq -c --argjson rc "$rc" --arg impl "$impl" --argjson load "$load_before" \
      --argjson wall "$(awk -v a="$started" -v b="$ended" 'BEGIN { print b - a }')" \
      --argjson server "$(($(cpu_ticks "${PID[$impl]}") - server_before))" \
      --argjson kafka "$(($(cpu_ticks "$KLAXON_STACK_KAFKA_PID") - kafka_before))" \
      --argjson redis "$(($(cpu_ticks "$KLAXON_STACK_REDIS_PID") - redis_before))" \
      --argjson tck "$CLK_TCK" \
      '. + {impl: $impl, exit: $rc, load_avg: $load, wall_s: $wall,
            cpu_s: {server: ($server / $tck), kafka: ($kafka / $tck), redis: ($redis / $tck)}}' \
      "$out.json" >"$out.run.json"
    jq -r '"  \(.impl) at \(.rate)/s: achieved \(.achieved_rate)/s, p50 \(.latency_ms.p50) ms,"
           + " p99 \(.latency_ms.p99) ms, errors \(.requests - .ok), exit \(.exit)"' "$out.run.json" >&2
    ((skip && rc == 1)) && FAILED_AT[$impl]="$rate"
    sleep "$settle"
  done
done

# --- what reached Kafka ---------------------------------------------------------------------
# Every measured or warm-up request that is not a replay must be exactly one event.
events_in() {
  (cd "$PEER_DIR" && BROKERS="$KLAXON_KAFKA_BROKERS" TOPIC="$1" node -e '
    const { Kafka, logLevel } = require("kafkajs");
    const admin = new Kafka({ brokers: process.env.BROKERS.split(","), logLevel: logLevel.NOTHING }).admin();
    admin.connect()
      .then(() => admin.fetchTopicOffsets(process.env.TOPIC))
      .then((parts) => { console.log(parts.reduce((n, p) => n + Number(p.high) - Number(p.low), 0)); })
      .finally(() => admin.disconnect());')
}

# --- the report -----------------------------------------------------------------------------
summary="$dir/results/summary.json"
jq -s --argjson target "$p99_target" '
  def sustained: .exit == 0 and .ok == .requests and .latency_ms.p99 <= $target;
  (map(select(sustained)) | group_by(.impl) | map({(.[0].impl): (map(.rate) | max)}) | add // {})
    as $best
  | {runs: ., best: $best}' "$dir"/results/*.run.json >"$summary"

fmt_row() {
  jq -r --arg impl "$1" --argjson rate "$2" '
    [.runs[] | select(.impl == $impl and .rate == $rate)]
    | if length == 0 then "skipped | | |" else .[0]
      | "\(.achieved_rate | round) | \(.latency_ms.p50) | \(.latency_ms.p99) | \(.requests - .ok)"
      end' "$summary"
}
echo
echo "Webhook ingress, Klaxon vs Node.js peer: bench-webhook --duration $duration --warmup $warmup" \
  "--connections $connections --replay-fraction $replay_fraction"
echo "($(nproc) cores; p50/p99 in ms; errors = measured requests not answered 2xx)"
echo
header="| rate |"
rule="| ---: |"
for impl in "${impls[@]}"; do
  header+=" $impl achieved | $impl p50 | $impl p99 | $impl errors |"
  rule+=" ---: | ---: | ---: | ---: |"
done
echo "$header"
echo "$rule"
for rate in $rates; do
  row="| $rate/s |"
  for impl in "${impls[@]}"; do row+=" $(fmt_row "$impl" "$rate") |"; done
  echo "$row"
done
echo
echo "CPU during each run (cores busy on average over the run, warm-up included), load average at its start:"
echo
echo "| impl | rate | server | kafka | redis | load avg |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
jq -r '.runs | sort_by(.rate, .impl)[]
  | "| \(.impl) | \(.rate)/s | \(.cpu_s.server / .wall_s * 100 | round / 100) |"
    + " \(.cpu_s.kafka / .wall_s * 100 | round / 100) | \(.cpu_s.redis / .wall_s * 100 | round / 100) |"
    + " \(.load_avg) |"' "$summary"
echo
for impl in "${impls[@]}"; do
  sent="$(jq --arg impl "$impl" '[.runs[] | select(.impl == $impl)
    | .requests + .warmup_requests - .replays.sent] | add' "$summary")"
  if [[ -s "$dir/logs/prime-$impl.json" ]]; then
    sent=$((sent + $(jq '.requests' "$dir/logs/prime-$impl.json")))
  fi
  echo "$impl: $(events_in "${TOPIC[$impl]}") events in ${TOPIC[$impl]}" \
    "(requests sent less measured replays: $sent; replays in warm-ups also dedupe)"
done
echo
for impl in "${impls[@]}"; do
  best="$(jq -r --arg impl "$impl" '.best[$impl] // "none"' "$summary")"
  echo "$impl: highest rate sustained (every request 2xx, >= 95% of the rate, p99 <= ${p99_target} ms): $best"
done
for impl in "${impls[@]}"; do
  [[ "$impl" == klaxon || " ${impls[*]} " != *" klaxon "* ]] && continue
  jq -r --arg peer "$impl" '.best as $b
    | if ($b.klaxon // 0) > 0 and ($b[$peer] // 0) > 0
      then "ratio klaxon/\($peer): \($b.klaxon / $b[$peer] * 100 | round / 100)"
      else "ratio klaxon/\($peer): undefined (a side sustained none of the rates)" end' "$summary"
done
