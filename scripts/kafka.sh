#!/usr/bin/env bash
# One single-node Kafka broker (KRaft, combined broker and controller) on loopback, run from the
# jars scripts/deps.sh caches. scripts/stack.sh starts the suite's broker with it, and tests that
# must stop and restart a broker of their own (a Kafka outage) run it directly.
#
#   scripts/kafka.sh format DIR PORT CONTROLLER_PORT
#       writes DIR/server.properties (clients on 127.0.0.1:PORT, the controller on
#       CONTROLLER_PORT) and formats an empty log in DIR/data; DIR/data must not exist yet.
#   scripts/kafka.sh run DIR
#       runs DIR's broker in the foreground (this process becomes the JVM, so its pid is the
#       broker's) until it is stopped. Run it again after a stop or a kill -9 and the broker comes
#       back on the same ports with the same data.
#   scripts/kafka.sh ping PORT
#       exits 0 when the broker on 127.0.0.1:PORT answers an ApiVersions request.
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
  echo "usage: $0 format DIR PORT CONTROLLER_PORT | run DIR | ping PORT" >&2
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

cmd_format() {
  local dir="$1" port="$2" controller_port="$3"
  require_jars
  [[ ! -e "$dir/data" ]] || die "$dir/data exists; format makes a new broker in a fresh DIR"
  mkdir -p "$dir"
  # Internal topics get one replica and few partitions: on two cores, creating 50
  # __consumer_offsets partitions dominates a test's first group join. Topics are created by
  # klaxon-admin, never by the broker. After a kill -9 the restarted broker may register only
  # once its previous session expired, so the session is 3 s instead of 9 s.
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
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
  "${KAFKA_JAVA[@]}" kafka.tools.StorageTool format -t "$(cluster_id)" \
    -c "$dir/server.properties" >"$dir/format.log" 2>&1 || {
    tail -n 40 "$dir/format.log" >&2
    die "kafka storage format of $dir/data failed"
  }
}

cmd_run() {
  local dir="$1"
  require_jars
  [[ -f "$dir/server.properties" ]] || die "$dir holds no broker; run '$0 format' first"
  exec "${KAFKA_JAVA[@]}" kafka.Kafka "$dir/server.properties"
}

# Captured rather than piped into grep -q, so an early-exiting grep cannot fail the check.
cmd_ping() {
  local port="$1" answer
  require_jars
  answer="$(timeout 30 "${KAFKA_JAVA[@]}" kafka.admin.BrokerApiVersionsCommand \
    --bootstrap-server "127.0.0.1:$port" 2>&1)" || return 1
  [[ "$answer" == *"127.0.0.1:$port"* ]]
}

main() {
  [[ $# -ge 1 ]] || usage
  case "$1" in
    format) [[ $# -eq 4 ]] || usage; cmd_format "$(realpath -m "$2")" "$3" "$4" ;;
    run) [[ $# -eq 2 ]] || usage; cmd_run "$(realpath -m "$2")" ;;
    ping) [[ $# -eq 2 ]] || usage; cmd_ping "$2" ;;
    *) usage ;;
  esac
}

main "$@"
