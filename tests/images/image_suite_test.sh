#!/usr/bin/env bash
# The whole suite started from its container images: audit, ingress, sms-worker and voice-worker
# (and the create-topics and migrate steps, and klaxonctl) each run inside its image's root
# filesystem, as the image's user, with only the image's libraries, on the host's network against
# the test stack's Kafka, Redis and Postgres (KLAXON_TEST_*) and the Twilio sandbox of the build
# tree. klaxonctl sends an SMS and a voice alert, and both must become DELIVERED; every service
# must then drain and exit 0 on SIGTERM.
#
#   tests/images/image_suite_test.sh BUILD_DIR
#
# The images come from scripts/images.sh (which skips what is up to date). Each runs through
# `buildah mount` and chroot(8) in a private mount namespace with /dev and /proc, which is what
# `buildah run --isolation chroot` does, minus the wrapper: buildah run does not pass SIGTERM on to
# the service (it kills it), and a service's drain on SIGTERM is part of what is tested.
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly BUILD="${1:?usage: $0 BUILD_DIR}"
readonly TAG="${KLAXON_IMAGE_TAG:-dev}"
readonly API_KEY="image-test-api-key"
readonly SANDBOX_TOKEN="sandbox-token"
readonly SENDER="+14155552671"
: "${KLAXON_TEST_KAFKA_BROKERS:?}" "${KLAXON_TEST_REDIS_URL:?}" "${KLAXON_TEST_PG_URL:?}"

log() { printf 'image_suite_test: %s\n' "$*" >&2; }
fail() {
  log "FAIL: $*"
  exit 1
}

work="$(mktemp -d -t klaxon-image-test.XXXXXX)"
readonly prefix="img$$-"
readonly database="image_test_$$"
declare -A mounts=() pids=()
containers=()

cleanup() {
  local status=$? name
  for name in "${!pids[@]}"; do kill -KILL "${pids[$name]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for name in "${containers[@]}"; do
    buildah umount "$name" >/dev/null 2>&1 || true
    buildah rm "$name" >/dev/null 2>&1 || true
  done
  psql -q "$KLAXON_TEST_PG_URL" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  if [[ $status -ne 0 ]]; then
    for name in "$work"/*.log; do
      [[ -e "$name" ]] && { echo "--- $(basename "$name")"; tail -n 30 "$name"; } >&2
    done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => {
    console.log(s.address().port); s.close(); });'
}

# mount_image IMAGE: a working container of klaxon/IMAGE, mounted; its root in mounts[IMAGE].
mount_image() {
  local image="$1" container
  container="$(buildah from --quiet --pull=never --name "klaxon-image-test-$image-$$" \
    "localhost/klaxon/$image:$TAG")"
  containers+=("$container")
  mounts[$image]="$(buildah mount "$container")"
}

# in_image IMAGE [--exec PATH] [ARGS...]: runs the image's entrypoint (or PATH) with ARGS inside
# the image's root as the image's user, with this shell's environment; exec's, so the caller's pid
# is the service's.
in_image() {
  local image="$1" root user
  shift
  root="${mounts[$image]}"
  user="$(buildah inspect --type image --format '{{.OCIv1.Config.User}}' "localhost/klaxon/$image:$TAG")"
  local command
  if [[ "${1:-}" == --exec ]]; then
    command=("$2")
    shift 2
  else
    read -r -a command <<<"$(buildah inspect --type image \
      --format '{{range .OCIv1.Config.Entrypoint}}{{.}} {{end}}' "localhost/klaxon/$image:$TAG")"
  fi
  exec unshare --mount --propagation private -- /bin/sh -c \
    'root="$1"; user="$2"; shift 2
     mount --rbind /dev "$root/dev" && mount -t proc proc "$root/proc" &&
     exec chroot --userspec="$user" "$root" "$@"' \
    sh "$root" "$user" "${command[@]}" "$@"
}

# The environment of every service (as tests/e2e/suite.cc sets it), and nothing else.
environment=(
  # The images' PATH, which also finds unshare and chroot on the host.
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  KLAXON_LOG_LEVEL=info
  KLAXON_PII_HMAC_KEY=image-test-pii-hmac-key-0123456789
  "KLAXON_KEYRING={\"current\": 1, \"keys\": {\"1\": \"$(head -c 32 /dev/urandom | base64)\"}}"
  # Its own key, not audit's: personal data in Kafka and Redis is sealed under it (ADR 0013).
  "KLAXON_TRANSIT_KEYRING={\"current\": 7, \"keys\": {\"7\": \"$(head -c 32 /dev/urandom | base64)\"}}"
  KLAXON_BLIND_INDEX_KEY=image-test-blind-index-key-0123456789abcdef
  "KLAXON_KAFKA_BROKERS=$KLAXON_TEST_KAFKA_BROKERS"
  "KLAXON_TOPIC_PREFIX=$prefix"
  "KLAXON_REDIS_URL=$KLAXON_TEST_REDIS_URL"
  "KLAXON_REDIS_KEY_PREFIX=$prefix"
  "KLAXON_PG_URL=${KLAXON_TEST_PG_URL%/*}/$database"
  "KLAXON_API_KEYS=image-test=$(printf '%s' "$API_KEY" | sha256sum | cut -d' ' -f1)"
  KLAXON_TWILIO_ACCOUNT_SID=AC00000000000000000000000000000000
  "KLAXON_TWILIO_AUTH_TOKEN=$SANDBOX_TOKEN"
  "KLAXON_SMS_SENDERS=$SENDER"
  "KLAXON_VOICE_SENDERS=$SENDER"
  KLAXON_SENDER_RATE=1000/1s
  KLAXON_RECIPIENT_LIMITS=none
  # The test's gRPC is on loopback, in plain text as in the dev overlay.
  KLAXON_GRPC_PLAINTEXT=true
)

# start NAME IMAGE ADMIN_PORT [VAR=VALUE...]: a service in the background, logging to NAME.log.
start() {
  local name="$1" image="$2" admin="$3"
  shift 3
  (exec env -i "${environment[@]}" "KLAXON_ADMIN_ADDR=127.0.0.1:$admin" "$@" \
    bash -c "$(declare -p mounts TAG); $(declare -f in_image); in_image $image" \
    >"$work/$name.log" 2>&1 </dev/null) &
  pids[$name]=$!
}

# wait_serving NAME URL [any]: polls URL until it answers 200 (any status with "any"), for 60 s.
wait_serving() {
  local name="$1" url="$2" deadline=$((SECONDS + 60)) fail=-f
  [[ "${3:-}" == any ]] && fail=
  until curl $fail -s -o /dev/null --max-time 2 "$url"; do
    kill -0 "${pids[$name]}" 2>/dev/null || fail "$name exited before serving"
    ((SECONDS < deadline)) || fail "$name does not answer $url after 60 s"
    sleep 0.1
  done
}

# klaxonctl ARGS...: klaxonctl inside its image.
klaxonctl() {
  env -i "${environment[@]}" KLAXON_API_KEY="$API_KEY" \
    "KLAXON_INGRESS_ADDR=127.0.0.1:$ingress_port" "KLAXON_AUDIT_ADDR=127.0.0.1:$audit_port" \
    bash -c "$(declare -p mounts TAG); $(declare -f in_image); in_image klaxonctl \"\$@\"" \
    klaxonctl "$@"
}

started=$SECONDS
KLAXON_BUILD_DIR="$BUILD" "$ROOT/scripts/images.sh" ingress sms-worker voice-worker audit admin \
  klaxonctl
log "images ready in $((SECONDS - started)) s"
# A second run finds every image up to date and builds nothing.
if KLAXON_BUILD_DIR="$BUILD" "$ROOT/scripts/images.sh" ingress sms-worker voice-worker audit admin \
    klaxonctl 2>&1 | grep building; then
  fail "a second scripts/images.sh rebuilt an image that had not changed"
fi
revision="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
for image in ingress sms-worker voice-worker audit admin klaxonctl; do
  mount_image "$image"
  # Runtime packages only, as a fixed non-root user, labelled with this revision.
  if dev="$(grep -E '^Package: .*-dev$' "${mounts[$image]}/var/lib/dpkg/status")"; then
    fail "klaxon/$image holds development packages: $dev"
  fi
  for compiler in gcc g++ cc c++ clang; do
    [[ ! -e "${mounts[$image]}/usr/bin/$compiler" ]] || fail "klaxon/$image holds $compiler"
  done
  user="$(buildah inspect --type image --format '{{.OCIv1.Config.User}}' "localhost/klaxon/$image:$TAG")"
  [[ "$user" =~ ^[1-9][0-9]*:[0-9]+$ ]] || fail "klaxon/$image runs as \"$user\", not a numeric non-root user"
  label="$(buildah inspect --type image --format \
    '{{index .OCIv1.Config.Labels "org.opencontainers.image.revision"}}' "localhost/klaxon/$image:$TAG")"
  [[ "$label" == "$revision" ]] || fail "klaxon/$image is labelled revision $label, not $revision"
done

psql -q "$KLAXON_TEST_PG_URL" -c "CREATE DATABASE $database" >/dev/null
env -i "${environment[@]}" bash -c "$(declare -p mounts TAG); $(declare -f in_image)
  in_image admin create-topics --partitions 2" >"$work/create-topics.log" 2>&1 ||
  fail "klaxon-admin create-topics failed"
env -i "${environment[@]}" bash -c "$(declare -p mounts TAG); $(declare -f in_image)
  in_image admin --exec /usr/local/bin/klaxon-audit-admin migrate" >"$work/migrate.log" 2>&1 ||
  fail "klaxon-audit-admin migrate failed"

sandbox_port="$(free_port)"
ingress_port="$(free_port)"
webhook_port="$(free_port)"
audit_port="$(free_port)"
"$BUILD/tools/twilio-sandbox/twilio-sandbox" --listen "127.0.0.1:$sandbox_port" \
  --callback-delay-ms 10 >"$work/twilio-sandbox.log" 2>&1 </dev/null &
pids[twilio-sandbox]=$!
wait_serving twilio-sandbox "http://127.0.0.1:$sandbox_port/sandbox/ledger"
environment+=("KLAXON_TWILIO_BASE_URL=http://127.0.0.1:$sandbox_port"
  "KLAXON_WEBHOOK_PUBLIC_URL=http://127.0.0.1:$webhook_port")

declare -A admin_ports=()
for name in audit ingress sms-worker voice-worker; do admin_ports[$name]="$(free_port)"; done
start audit audit "${admin_ports[audit]}" "KLAXON_GRPC_ADDR=127.0.0.1:$audit_port"
start ingress ingress "${admin_ports[ingress]}" "KLAXON_GRPC_ADDR=127.0.0.1:$ingress_port" \
  "KLAXON_WEBHOOK_ADDR=127.0.0.1:$webhook_port" "KLAXON_HTTP_API_ADDR=127.0.0.1:$(free_port)" \
  KLAXON_TWILIO_SANDBOX=true
start sms-worker sms-worker "${admin_ports[sms-worker]}"
start voice-worker voice-worker "${admin_ports[voice-worker]}"
for name in audit ingress sms-worker voice-worker; do
  wait_serving "$name" "http://127.0.0.1:${admin_ports[$name]}/readyz"
done
log "the suite serves from its images $((SECONDS - started)) s after the start"

sms_id="$(klaxonctl send --to +14155550100 --text "image test: disk full on db-1")" ||
  fail "klaxonctl send (sms) failed: $sms_id"
voice_id="$(klaxonctl send --channel voice --to +14155550101 --text "image test: db-1 is down")" ||
  fail "klaxonctl send (voice) failed: $voice_id"
for id in "$sms_id" "$voice_id"; do
  if ! answer="$(klaxonctl --timeout 60s get "$id" --wait-for DELIVERED 2>&1)"; then
    fail "alert $id did not become DELIVERED: $answer"
  fi
  grep -q DELIVERED <<<"$answer" || fail "alert $id: $answer"
  log "alert $id: DELIVERED"
done

# Each service drains and exits 0 on SIGTERM, as it would when Kubernetes stops its pod.
for name in voice-worker sms-worker ingress audit; do
  kill -TERM "${pids[$name]}"
  if ! wait "${pids[$name]}"; then
    fail "$name did not exit 0 on SIGTERM"
  fi
  unset "pids[$name]"
done
log "PASS in $((SECONDS - started)) s"
