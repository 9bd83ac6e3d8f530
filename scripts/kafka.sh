#!/usr/bin/env bash
# One single-node Kafka broker (KRaft, combined broker and controller) on loopback, run from the
# jars scripts/deps.sh caches. scripts/stack.sh starts the suite's broker with it, and tests that
# must stop and restart a broker of their own (a Kafka outage) run it directly.
#
#   scripts/kafka.sh format DIR PORT CONTROLLER_PORT
#       writes DIR/server.properties (clients on 127.0.0.1:PORT, the controller on
#       CONTROLLER_PORT) and formats an empty log in DIR/data; DIR/data must not exist yet.
#   scripts/kafka.sh format-sasl-ssl DIR PORT CONTROLLER_PORT TLS_DIR USER PASSWORD_FILE
#       the same, but clients (and the broker itself) reach 127.0.0.1:PORT only over SASL_SSL:
#       TLS with TLS_DIR/server.p12 (PKCS#12, its password in TLS_DIR/keystore-password; the
#       certificate must name 127.0.0.1) and SCRAM-SHA-512 user USER (password in PASSWORD_FILE),
#       created in the log at format time. Writes DIR/client.properties for Kafka's own tools.
#   scripts/kafka.sh run DIR
#       runs DIR's broker in the foreground (this process becomes the JVM, so its pid is the
#       broker's) until it is stopped. Run it again after a stop or a kill -9 and the broker comes
#       back on the same ports with the same data.
#   scripts/kafka.sh ping PORT [CLIENT_PROPERTIES]
#       exits 0 when the broker on 127.0.0.1:PORT answers an ApiVersions request (connecting as
#       CLIENT_PROPERTIES says, e.g. DIR/client.properties of a SASL_SSL broker).
#
# Needs scripts/deps.sh to have run (Kafka jars in ${KLAXON_CACHE:-$HOME/.cache/klaxon}).
set -euo pipefail

readonly SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly KAFKA_VERSION=3.9.1
readonly KAFKA_HOME="${KLAXON_CACHE:-$HOME/.cache/klaxon}/kafka-$KAFKA_VERSION"

# The broker and Kafka's own command-line tools, all run from the cached jars.
readonly KAFKA_JAVA=(
  java -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true
  "-Dlog4j.configuration=file:$SCRIPT_DIR/kafka/log4j.properties"
  -cp "$KAFKA_HOME/libs/*"
)

die() {
  printf 'kafka.sh: error: %s\n' "$*" >&2
  exit 1
}

usage() {
  echo "usage: $0 format DIR PORT CONTROLLER_PORT" \
    "| format-sasl-ssl DIR PORT CONTROLLER_PORT TLS_DIR USER PASSWORD_FILE" \
    "| run DIR | ping PORT [CLIENT_PROPERTIES]" >&2
  exit 2
}

require_jars() {
  [[ -f "$KAFKA_HOME/.complete" ]] || die "Kafka jars missing in $KAFKA_HOME (run scripts/deps.sh)"
}

# A cluster id as Kafka's StorageTool random-uuid prints it (16 random bytes, URL-safe base64
# without padding), without starting a JVM for it. One that starts with '-' would read as an
# option, so it is drawn again, as Kafka's own generator does.
cluster_id() {
  local id
  until [[ -n "${id:-}" && "$id" != -* ]]; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  done
  echo "$id"
}

# write_properties DIR: the settings every broker of ours shares, appended to the listener lines
# the caller wrote to DIR/server.properties.
write_properties() {
  local dir="$1"
  # Internal topics get one replica and few partitions: on two cores, creating 50
  # __consumer_offsets partitions dominates a test's first group join. Topics are created by
  # klaxon-admin, never by the broker. After a kill -9 the restarted broker may register only
  # once its previous session expired, so the session is 3 s instead of 9 s.
  cat >>"$dir/server.properties" <<EOF
log.dirs=$dir/data
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000
EOF
}

# storage_format DIR [StorageTool options...]
storage_format() {
  local dir="$1"
  shift
  "${KAFKA_JAVA[@]}" kafka.tools.StorageTool format -t "$(cluster_id)" \
    -c "$dir/server.properties" "$@" >"$dir/format.log" 2>&1 || {
    tail -n 40 "$dir/format.log" >&2
    die "kafka storage format of $dir/data failed"
  }
}

new_broker_dir() {
  local dir="$1"
  require_jars
  [[ ! -e "$dir/data" ]] || die "$dir/data exists; format makes a new broker in a fresh DIR"
  mkdir -p "$dir"
}

cmd_format() {
  local dir="$1" port="$2" controller_port="$3"
  new_broker_dir "$dir"
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
EOF
  write_properties "$dir"
  storage_format "$dir"
}

# One SASL_SSL listener serves clients and the broker's own inter-broker traffic; only the
# controller's loopback listener stays plaintext (a single combined node talks to itself there).
cmd_format_sasl_ssl() {
  local dir="$1" port="$2" controller_port="$3" tls="$4" user="$5" password_file="$6"
  local password keystore_password
  new_broker_dir "$dir"
  password="$(<"$password_file")"
  keystore_password="$(<"$tls/keystore-password")"
  local jaas="org.apache.kafka.common.security.scram.ScramLoginModule required"
  jaas+=" username=\"$user\" password=\"$password\";"
  (
    umask 077  # both files hold passwords
    cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=SASL_SSL://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=SASL_SSL://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=$jaas
ssl.keystore.type=PKCS12
ssl.keystore.location=$tls/server.p12
ssl.keystore.password=$keystore_password
ssl.key.password=$keystore_password
ssl.truststore.type=PEM
ssl.truststore.location=$tls/ca.crt
EOF
    cat >"$dir/client.properties" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=$jaas
ssl.truststore.type=PEM
ssl.truststore.location=$tls/ca.crt
EOF
  )
  write_properties "$dir"
  storage_format "$dir" --add-scram "SCRAM-SHA-512=[name=$user,password=$password]"
}

cmd_run() {
  local dir="$1"
  require_jars
  [[ -f "$dir/server.properties" ]] || die "$dir holds no broker; run '$0 format' first"
  exec "${KAFKA_JAVA[@]}" kafka.Kafka "$dir/server.properties"
}

# Captured rather than piped into grep -q, so an early-exiting grep cannot fail the check.
cmd_ping() {
  local port="$1" properties="${2:-}" answer
  local config=()
  [[ -z "$properties" ]] || config=(--command-config "$properties")
  require_jars
  answer="$(timeout 30 "${KAFKA_JAVA[@]}" kafka.admin.BrokerApiVersionsCommand \
    --bootstrap-server "127.0.0.1:$port" "${config[@]}" 2>&1)" || return 1
  [[ "$answer" == *"127.0.0.1:$port"* ]]
}

main() {
  [[ $# -ge 1 ]] || usage
  case "$1" in
    format) [[ $# -eq 4 ]] || usage; cmd_format "$(realpath -m "$2")" "$3" "$4" ;;
    format-sasl-ssl)
      [[ $# -eq 7 ]] || usage
      cmd_format_sasl_ssl "$(realpath -m "$2")" "$3" "$4" "$(realpath -m "$5")" "$6" \
        "$(realpath -m "$7")"
      ;;
    run) [[ $# -eq 2 ]] || usage; cmd_run "$(realpath -m "$2")" ;;
    ping) [[ $# -eq 2 || $# -eq 3 ]] || usage; cmd_ping "$2" "${3:-}" ;;
    *) usage ;;
  esac
}

main "$@"
