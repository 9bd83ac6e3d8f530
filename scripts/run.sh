#!/usr/bin/env bash
# Brings the whole suite up on loopback: Kafka, Redis and Postgres (scripts/stack.sh), the Twilio
# sandbox, and ingress, sms-worker, voice-worker and audit, each in the background with its log
# under build/run/logs. Installs and builds what is missing first. Running it again only starts
# what is not running.
#
#   scripts/run.sh          up (the default); KLAXON_RUN_SMS_WORKERS=2 runs two sms-workers
#                           and TWILIO_SANDBOX_THREADS sizes the sandbox
#   scripts/run.sh down     stop the services and the stack
#   scripts/run.sh status   list what runs
#
# ingress's and audit's gRPC ports serve TLS with a certificate from a local CA that this script
# makes once with openssl (build/run/tls, renewed when it nears expiry); client.env points
# klaxonctl and the bench clients at that CA (KLAXON_CA_FILE).
#
# Afterwards `. build/run/client.env` gives klaxonctl its address, API key and CA.
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly RUN="${KLAXON_RUN_DIR:-$ROOT/build/run}"
readonly BIN="$ROOT/build/release"
readonly SANDBOX_ADDR="${KLAXON_SANDBOX_ADDR:-127.0.0.1:9800}"
readonly INGRESS_ADDR="${KLAXON_INGRESS_ADDR:-127.0.0.1:50051}"
readonly AUDIT_ADDR="${KLAXON_AUDIT_ADDR:-127.0.0.1:50052}"
# ingress's Twilio webhooks; the sandbox posts its status callbacks there
readonly WEBHOOK_ADDR="${KLAXON_WEBHOOK_ADDR:-127.0.0.1:8080}"
# the caller API as HTTP/JSON, served by ingress
readonly HTTP_API_ADDR="${KLAXON_HTTP_API_ADDR:-127.0.0.1:8081}"
readonly SANDBOX_ACCOUNT_SID=AC00000000000000000000000000000000
readonly SANDBOX_AUTH_TOKEN=sandbox-token
# service name, binary, admin address (for /readyz)
SERVICES=(
  "audit services/audit/klaxon-audit 127.0.0.1:9467"
  "ingress services/ingress/klaxon-ingress 127.0.0.1:9464"
  "sms-worker services/sms-worker/klaxon-sms-worker 127.0.0.1:9465"
  "voice-worker services/voice-worker/klaxon-voice-worker 127.0.0.1:9466"
)
# More sms-worker replicas (sms-worker-2 on admin 127.0.0.1:9468, ...) share the consumer group,
# e.g. for bench-delivery (bench/README.md).
for ((replica = 2; replica <= ${KLAXON_RUN_SMS_WORKERS:-1}; replica++)); do
  SERVICES+=("sms-worker-$replica services/sms-worker/klaxon-sms-worker 127.0.0.1:$((9466 + replica))")
done

log() { printf 'run.sh: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

running() { [[ -f "$RUN/$1.pid" ]] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

# wait_for NAME URL [any]: polls URL until it answers 2xx (any HTTP status with "any"), or fails
# showing the tail of NAME's log.
wait_for() {
  local name="$1" url="$2" deadline=$((SECONDS + 60)) fail=-f
  [[ "${3:-}" == any ]] && fail=
  until curl $fail -sS -o /dev/null "$url" 2>/dev/null; do
    if ! running "$name"; then
      tail -n 20 "$RUN/logs/$name.log" >&2 || true
      die "$name exited; its log is $RUN/logs/$name.log"
    fi
    ((SECONDS < deadline)) || die "$name is not ready after 60 s; see $RUN/logs/$name.log"
    sleep 0.2
  done
}

# stop NAME: SIGTERM (the services drain), SIGKILL after 20 s.
stop() {
  local name="$1"
  if running "$name"; then
    kill -TERM "$(cat "$RUN/$name.pid")"
    local deadline=$((SECONDS + 20))
    while running "$name" && ((SECONDS < deadline)); do sleep 0.2; done
    running "$name" && kill -KILL "$(cat "$RUN/$name.pid")"
    log "stopped $name"
  fi
  rm -f "$RUN/$name.pid"
}

# start NAME BINARY [ARGS...]: runs BINARY in the background unless NAME already runs that very
# build; a binary rebuilt since NAME started is restarted.
start() {
  local name="$1" binary="$2"
  shift 2
  if running "$name"; then
    if [[ ! "$binary" -nt "$RUN/$name.pid" ]]; then
      log "$name already runs (pid $(cat "$RUN/$name.pid"))"
      return
    fi
    log "$name was rebuilt: restarting it"
    stop "$name"
  fi
  setsid "$binary" "$@" >>"$RUN/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
  log "started $name (pid $!)"
}

# Secrets for this machine's local suite, made once and kept under build/run (never committed).
# A secret added by a later version is appended to an existing file, never replacing one there.
add_secret() {
  grep -q "^$1=" "$RUN/secrets.env" || printf '%s=%s\n' "$1" "$2" >>"$RUN/secrets.env"
}
make_secrets() {
  umask 077
  touch "$RUN/secrets.env"
  if ! grep -q '^KLAXON_LOCAL_API_KEY=' "$RUN/secrets.env"; then
    local api_key
    api_key="klx_$(openssl rand -hex 24)"
    add_secret KLAXON_LOCAL_API_KEY "$api_key"
    add_secret KLAXON_API_KEYS "local=$(printf '%s' "$api_key" | sha256sum | cut -d' ' -f1)"
  fi
  add_secret KLAXON_PII_HMAC_KEY "$(openssl rand -hex 32)"
  add_secret KLAXON_BLIND_INDEX_KEY "$(openssl rand -hex 32)"
  add_secret KLAXON_KEYRING "'{\"current\": 1, \"keys\": {\"1\": \"$(openssl rand -base64 32)\"}}'"
  # Seals recipients and texts in Kafka values (docs/adr/0013): ingress, the workers and audit.
  add_secret KLAXON_TRANSIT_KEYRING "'{\"current\": 1, \"keys\": {\"1\": \"$(openssl rand -base64 32)\"}}'"
}

# A local CA and one server certificate for 127.0.0.1, ::1 and localhost, shared by ingress and
# audit; made again only when missing or within a day of expiring. Private keys stay 0600.
make_tls() {
  local dir="$RUN/tls"
  mkdir -p "$dir"
  if [[ -f "$dir/server.pem" && -f "$dir/ca.pem" ]] &&
    openssl x509 -checkend 86400 -noout -in "$dir/server.pem" >/dev/null &&
    openssl x509 -checkend 86400 -noout -in "$dir/ca.pem" >/dev/null; then
    return
  fi
  (
    umask 077
    cd "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
      -subj "/CN=Klaxon local CA" -keyout ca.key -out ca.pem \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -subj "/CN=klaxon local gRPC" -keyout server.key -out server.csr 2>/dev/null
    printf '%s\n' "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost" \
      "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=serverAuth" >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 90 \
      -extfile server.ext -out server.pem 2>/dev/null
    rm -f server.csr server.ext ca.srl
    chmod 644 ca.pem server.pem
  )
  log "made a local CA and gRPC server certificate in $dir"
}

up() {
  "$ROOT/scripts/deps.sh"
  "$ROOT/scripts/build.sh" release release-tree-suite
  mkdir -p "$RUN/logs"
  "$ROOT/scripts/stack.sh" up "$RUN/stack"
  make_secrets
  make_tls
  set -a
  . "$RUN/stack/env"
  . "$RUN/secrets.env"
  set +a
  export KLAXON_TWILIO_BASE_URL="http://$SANDBOX_ADDR" \
    KLAXON_TWILIO_MESSAGING_BASE_URL="http://$SANDBOX_ADDR" \
    KLAXON_TWILIO_ACCOUNT_SID="$SANDBOX_ACCOUNT_SID" \
    KLAXON_TWILIO_AUTH_TOKEN="$SANDBOX_AUTH_TOKEN" \
    KLAXON_SMS_SENDERS="${KLAXON_SMS_SENDERS:-+14155552671}" \
    KLAXON_VOICE_SENDERS="${KLAXON_VOICE_SENDERS:-+14155552671}" \
    KLAXON_WEBHOOK_ADDR="$WEBHOOK_ADDR" \
    KLAXON_WEBHOOK_PUBLIC_URL="http://$WEBHOOK_ADDR" \
    KLAXON_HTTP_API_ADDR="$HTTP_API_ADDR" \
    KLAXON_HTTP_API_AUDIT_TARGET="$AUDIT_ADDR" \
    KLAXON_HTTP_API_AUDIT_CA_FILE="$RUN/tls/ca.pem" \
    KLAXON_GRPC_TLS_CERT_FILE="$RUN/tls/server.pem" \
    KLAXON_GRPC_TLS_KEY_FILE="$RUN/tls/server.key"

  "$BIN/tools/klaxon-admin/klaxon-admin" create-topics >"$RUN/logs/create-topics.log"
  "$BIN/services/audit/klaxon-audit-admin" migrate >"$RUN/logs/migrate.log"

  # The sandbox's account has the run's numbers and short codes, as `klaxon-admin check --online`
  # asks (the senders without their account or pace; Messaging Services are listed apart).
  local numbers
  numbers=$(printf '%s,%s' "$KLAXON_SMS_SENDERS" "$KLAXON_VOICE_SENDERS" | tr ',' '\n' |
    sed 's/[@=].*//; s/ //g' | grep -Ev '^(MG|$)' | sort -u | paste -sd, -)
  TWILIO_SANDBOX_NUMBERS="${TWILIO_SANDBOX_NUMBERS:-$SANDBOX_ACCOUNT_SID=$numbers}" \
    start twilio-sandbox "$BIN/tools/twilio-sandbox/twilio-sandbox" --listen "$SANDBOX_ADDR" \
    --account-sid "$SANDBOX_ACCOUNT_SID" --auth-token "$SANDBOX_AUTH_TOKEN" \
    --inbound-url "http://$WEBHOOK_ADDR/twilio/messages/inbound"
  wait_for twilio-sandbox "http://$SANDBOX_ADDR/sandbox/ledger"
  local entry name binary admin grpc
  for entry in "${SERVICES[@]}"; do
    read -r name binary admin <<<"$entry"
    case "$name" in
      ingress) grpc="$INGRESS_ADDR" ;;
      audit) grpc="$AUDIT_ADDR" ;;
      *) grpc="" ;;
    esac
    KLAXON_ADMIN_ADDR="$admin" KLAXON_GRPC_ADDR="$grpc" start "$name" "$BIN/$binary"
  done
  for entry in "${SERVICES[@]}"; do
    read -r name binary admin <<<"$entry"
    wait_for "$name" "http://$admin/readyz"
  done
  # Any answer will do (an unsigned request is refused): the webhook server listens.
  wait_for ingress "http://$WEBHOOK_ADDR/twilio/messages/status" any

  cat >"$RUN/client.env" <<CLIENT
export KLAXON_INGRESS_ADDR=$INGRESS_ADDR
export KLAXON_AUDIT_ADDR=$AUDIT_ADDR
export KLAXON_CA_FILE=$RUN/tls/ca.pem
export KLAXON_WEBHOOK_URL=http://$WEBHOOK_ADDR
export KLAXON_HTTP_API_URL=http://$HTTP_API_ADDR
export KLAXON_API_KEY=$KLAXON_LOCAL_API_KEY
export KLAXON_SANDBOX_URL=http://$SANDBOX_ADDR
export PATH="$BIN/tools/klaxonctl:\$PATH"
CLIENT
  log "the suite is up: ingress $INGRESS_ADDR (webhooks http://$WEBHOOK_ADDR, HTTP/JSON API" \
    "http://$HTTP_API_ADDR), audit $AUDIT_ADDR" \
    "(gRPC over TLS, CA $RUN/tls/ca.pem), Twilio sandbox $SANDBOX_ADDR"
  log "logs: $RUN/logs; next: . build/run/client.env && klaxonctl send --to +14155550100 --text hello"
}

down() {
  local name pid_file
  for name in voice-worker sms-worker ingress audit twilio-sandbox; do stop "$name"; done
  for pid_file in "$RUN"/sms-worker-*.pid; do
    [[ -e "$pid_file" ]] && stop "$(basename "$pid_file" .pid)"
  done
  [[ -d "$RUN/stack" ]] && "$ROOT/scripts/stack.sh" down "$RUN/stack"
  return 0
}

status() {
  local name rc=0
  for name in twilio-sandbox audit ingress sms-worker voice-worker; do
    if running "$name"; then echo "$name: running"; else echo "$name: stopped"; rc=1; fi
  done
  "$ROOT/scripts/stack.sh" status "$RUN/stack" || rc=1
  return "$rc"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *)
    echo "usage: $0 [up|down|status]" >&2
    exit 2
    ;;
esac
