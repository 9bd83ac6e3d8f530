#!/usr/bin/env bash
# Installs everything Klaxon needs to build and test on a fresh Debian bookworm machine, and is
# cheap to run again: apt is touched only when a package is missing, and the Kafka broker jars are
# fetched from Maven Central only when the cache does not hold them yet.
#
#   scripts/deps.sh            # as root (or with sudo available)
#
# Kafka is not packaged by Debian, so its jars (org.apache.kafka:kafka_2.13 and its runtime
# dependencies, plus an slf4j binding) are resolved with Maven from scripts/kafka/pom.xml into
# ${KLAXON_CACHE:-$HOME/.cache/klaxon}/kafka-3.9.1/libs, outside the repository. Prism, the
# OpenAPI mock of the Twilio contract test, and twilio, Twilio's official Node.js helper library
# that the webhook test signs its requests with, come from the npm registry into the same cache
# (scripts/npm-install.sh, pinned versions, no npm call when they are already there).
set -euo pipefail

readonly SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly KAFKA_VERSION=3.9.1
readonly CACHE_DIR="${KLAXON_CACHE:-$HOME/.cache/klaxon}"
readonly KAFKA_HOME="$CACHE_DIR/kafka-$KAFKA_VERSION"

readonly PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librdkafka-dev libpistache-dev libhiredis-dev libpqxx-dev libpq-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev libphonenumber-dev python3-phonenumbers nlohmann-json3-dev libabsl-dev
  libcli11-dev libbenchmark-dev libcurl4-openssl-dev libssl-dev uuid-dev
  clang libclang-rt-14-dev clang-format
  postgresql redis-server default-jre-headless maven nodejs npm curl jq
  buildah mmdebstrap prometheus kubernetes-client stunnel4
)
# buildah and mmdebstrap build the container images (scripts/images.sh); kubectl renders the
# manifests and promtool (prometheus) checks their alert rules (tests/deploy); stunnel4 carries
# the encrypted-links e2e test's Redis connections over TLS, as the prod sidecar does (ADR 0011);
# python3-phonenumbers holds libphonenumber's time-zone map, which the build compiles in
# (common/phone/time_zone_prefixes.py).

log() { printf 'deps: %s\n' "$*" >&2; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  else
    sudo "$@"
  fi
}

# Packages whose job is done by a command that another package may already provide: a machine
# with NodeSource's nodejs (which bundles npm and conflicts with Debian's npm) or with a specific
# openjdk-NN-jre-headless must not be forced onto Debian's meta packages; nor a machine whose
# kubectl comes from another vendor onto Debian's kubernetes-client (deploy/k8s renders with both).
declare -A PROVIDED_BY_COMMAND=([npm]=npm [default-jre-headless]=java [kubernetes-client]=kubectl)

missing_packages() {
  local pkg status
  for pkg in "${PACKAGES[@]}"; do
    if [[ -n "${PROVIDED_BY_COMMAND[$pkg]:-}" ]] && command -v "${PROVIDED_BY_COMMAND[$pkg]}" >/dev/null; then
      continue
    fi
    status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
    if [[ "$status" != installed ]]; then
      printf '%s\n' "$pkg"
    fi
  done
}

install_packages() {
  local missing
  mapfile -t missing < <(missing_packages)
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "all ${#PACKAGES[@]} Debian packages are installed"
    return
  fi
  log "installing ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}"
}

fetch_kafka() {
  local marker="$KAFKA_HOME/.complete"
  if [[ -f "$marker" ]]; then
    log "Kafka $KAFKA_VERSION already in $KAFKA_HOME"
    return
  fi
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_HOME/libs"
  # Resolve into a scratch directory and move it into place only when complete, so an
  # interrupted download never leaves a cache that looks usable.
  local staging
  staging="$(mktemp -d "$CACHE_DIR/kafka-staging.XXXXXX")"
  if ! mvn -q -B -Dstyle.color=never -f "$SCRIPT_DIR/kafka/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$staging/libs"; then
    rm -rf "$staging"
    log "mvn could not resolve Kafka $KAFKA_VERSION (is Maven Central reachable?)"
    return 1
  fi
  if [[ ! -f "$staging/libs/kafka_2.13-$KAFKA_VERSION.jar" ]]; then
    rm -rf "$staging"
    log "mvn finished but kafka_2.13-$KAFKA_VERSION.jar is missing"
    return 1
  fi
  rm -rf "$KAFKA_HOME"
  mv "$staging" "$KAFKA_HOME"
  date -u +%FT%TZ > "$marker"
  log "Kafka $KAFKA_VERSION ready ($(find "$KAFKA_HOME/libs" -name '*.jar' | wc -l) jars)"
}

main() {
  install_packages
  mkdir -p "$CACHE_DIR"
  fetch_kafka
  # Prism (npm) validates Klaxon's Twilio requests against Twilio's OpenAPI description.
  log "Prism at $("$SCRIPT_DIR/../tests/twilio-contract/install-prism.sh")"
  # Twilio's helper library signs the requests of the webhook compatibility test.
  log "twilio (Node.js) in $("$SCRIPT_DIR/../tests/webhook/install-twilio-node.sh")"
  # swagger-parser validates the OpenAPI document of the HTTP/JSON API.
  log "OpenAPI validator in $("$SCRIPT_DIR/../tests/openapi/install-validator.sh")"
  # kubernetes-models validates the rendered manifests against the Kubernetes API schemas.
  log "manifest validator in $("$SCRIPT_DIR/../tests/deploy/install-validator.sh")"
}

main "$@"
