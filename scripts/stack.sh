#!/usr/bin/env bash
# Starts and stops a private Kafka + Redis + Postgres stack on loopback for local runs and tests.
#
#   scripts/stack.sh up DIR     start everything under DIR, wait until ready, write DIR/env
#   scripts/stack.sh down DIR   stop everything started under DIR (nothing is deleted)
#   scripts/stack.sh status DIR exit 0 when every service of DIR is running
#   scripts/stack.sh restart DIR SERVICE term|kill
#                               stop one service (kafka, redis or pg) of a running DIR with SIGTERM,
#                               or as a crash would (kill -9; Postgres's immediate shutdown), and
#                               start it again on the same port with the same data, waiting until
#                               it serves; for chaos tests
#
# DIR/env holds KEY=VALUE lines (KLAXON_KAFKA_BROKERS, KLAXON_REDIS_URL, KLAXON_PG_URL and the
# pids); load it with `set -a; . DIR/env; set +a`. Every service listens on 127.0.0.1 on a port
# the kernel reports free, never on 9092/6379/5432, which the machine's own services may hold.
#
# It is meant to sit behind a trap:
#   dir="$(mktemp -d)"; trap 'scripts/stack.sh down "$dir"; rm -rf "$dir"' EXIT
#   scripts/stack.sh up "$dir"
# `down` is safe on a DIR that is half started, already stopped or empty. `up` on a running DIR
# only reports it; on a stopped DIR it starts a fresh stack, replacing the old state. A failed
# `up` stops whatever it had started before exiting non-zero.
#
# Needs scripts/deps.sh to have run (Kafka jars in ${KLAXON_CACHE:-$HOME/.cache/klaxon}).
# KLAXON_STACK_TIMEOUT (seconds, default 90) bounds each readiness wait.
set -euo pipefail

readonly SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly TIMEOUT="${KLAXON_STACK_TIMEOUT:-90}"
readonly SERVICES=(kafka redis pg)

log() { printf 'stack: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  echo "usage: $0 up|down|status DIR | restart DIR kafka|redis|pg term|kill" >&2
  exit 2
}

# Postgres refuses to run as root, so as root its commands run as the postgres user.
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_bin_dir() {
  if [[ -n "${KLAXON_PG_BIN:-}" ]]; then
    echo "$KLAXON_PG_BIN"
  elif command -v initdb >/dev/null; then
    dirname "$(readlink -f "$(command -v initdb)")"
  else
    # Debian keeps server binaries out of PATH, one directory per major version.
    local newest
    newest="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
    [[ -n "$newest" ]] || die "no Postgres server binaries found (run scripts/deps.sh)"
    echo "$newest"
  fi
}

# Prints N ports that were free a moment ago: all N sockets are bound at once so the kernel
# cannot hand out the same port twice. perl-base is Essential on Debian, so it is always there.
free_ports() {
  perl -MIO::Socket::INET -e '
    my @socks = map {
      IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Proto => "tcp", Listen => 1)
        or die "cannot bind a loopback port: $!\n"
    } 1..$ARGV[0];
    print join(" ", map { $_->sockport } @socks), "\n";' "$1"
}

pid_file() { echo "$DIR/$1/pid"; }

# True when the pid recorded for a service is alive and still runs that service's program, so a
# recycled pid is never mistaken for (or killed as) ours.
is_running() {
  local file pid comm
  file="$(pid_file "$1")"
  [[ -s "$file" ]] || return 1
  pid="$(<"$file")"
  comm="$(cat "/proc/$pid/comm" 2>/dev/null)" || return 1
  case "$1" in
    # Until scripts/kafka.sh has exec'd the JVM, the process is still the script.
    kafka) [[ "$comm" == java || "$comm" == kafka.sh ]] ;;
    redis) [[ "$comm" == redis-server ]] ;;
    pg) [[ "$comm" == postgres ]] ;;
  esac
}

show_log_tail() {
  log "last lines of $1:"
  tail -n 40 "$1" >&2 2>/dev/null || true
}

# wait_for SERVICE LOGFILE DESCRIPTION COMMAND...: polls COMMAND until it succeeds, the service
# dies, or TIMEOUT seconds pass.
wait_for() {
  local service="$1" logfile="$2" what="$3"
  shift 3
  local deadline=$((SECONDS + TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    if ! is_running "$service"; then
      show_log_tail "$logfile"
      die "$service exited while waiting for $what"
    fi
    if ((SECONDS >= deadline)); then
      show_log_tail "$logfile"
      die "$service: no $what after ${TIMEOUT}s"
    fi
    sleep 0.5
  done
}

# scripts/kafka.sh owns the broker: its configuration, its storage format and its JVM, which
# replaces the backgrounded shell so the recorded pid is the broker's.
start_kafka() {
  local port="$1" controller_port="$2" dir="$DIR/kafka"
  "$SCRIPT_DIR/kafka.sh" format "$dir" "$port" "$controller_port" ||
    die "kafka storage format failed"
  run_kafka
}

# Runs DIR's formatted broker. Its log starts empty, so wait_kafka sees only this run's lines.
run_kafka() {
  "$SCRIPT_DIR/kafka.sh" run "$DIR/kafka" >"$DIR/kafka/server.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$(pid_file kafka)"
  # Until the background shell has exec'd kafka.sh it is still a copy of this shell, which
  # is_running does not take for the broker; a few seconds cover a slow fork and exec.
  local tries=100
  while ! is_running kafka && kill -0 "$pid" 2>/dev/null && ((tries-- > 0)); do sleep 0.05; done
}

wait_kafka() {
  local port="$1" dir="$DIR/kafka"
  # The log line is cheap to poll; the metadata round trip (one more JVM) proves the listener
  # really serves clients, which is what the tests need.
  wait_for kafka "$dir/server.log" "'Kafka Server started' log line" \
    grep -q 'Kafka Server started' "$dir/server.log"
  wait_for kafka "$dir/server.log" "ApiVersions answer on 127.0.0.1:$port" \
    "$SCRIPT_DIR/kafka.sh" ping "$port"
}

# Redis holds the attempt claims (ADR 0004), so it runs as production must: with an append-only
# file that is written before each reply and fsynced every second. A killed or restarted
# redis-server reloads every write it acknowledged from that file (restart reuses DIR); only a
# crash of the machine itself can lose the last second.
start_redis() {
  local port="$1" dir="$DIR/redis"
  mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly yes \
    --appendfsync everysec --dir "$dir" --logfile "$dir/redis.log" --daemonize no \
    </dev/null >/dev/null 2>&1 &
  echo $! >"$(pid_file redis)"
}

redis_pongs() { [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == PONG ]]; }

wait_redis() {
  wait_for redis "$DIR/redis/redis.log" "PONG on 127.0.0.1:$1" redis_pongs "$1"
}

start_pg() {
  local port="$1" dir="$DIR/pg" bin
  bin="$(pg_bin_dir)"
  mkdir -p "$dir"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres: "$dir"
    # mktemp -d makes DIR 0700; the postgres user only needs to traverse it, not list it.
    as_pg test -x "$DIR" || chmod o+x "$DIR"
    as_pg test -w "$dir" || die "user postgres cannot reach $dir (a parent directory is closed)"
  fi
  as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale \
    >"$dir/initdb.log" 2>&1 || {
    show_log_tail "$dir/initdb.log"
    die "initdb failed"
  }
  # Trust is acceptable only because the server listens on loopback alone and its socket
  # directory is private to DIR.
  cat >"$dir/data/pg_hba.conf" <<EOF
local all all trust
host all all 127.0.0.1/32 trust
EOF
  run_pg "$port"
}

# Starts DIR's initialized cluster and records the postmaster's pid.
run_pg() {
  local port="$1" dir="$DIR/pg" bin
  bin="$(pg_bin_dir)"
  # fsync off: a test database that is thrown away does not need crash safety, and it
  # keeps schema setup fast on slow disks.
  as_pg "$bin/pg_ctl" start -D "$dir/data" -l "$dir/postgres.log" -W \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' -c fsync=off" \
    >/dev/null
  local deadline=$((SECONDS + TIMEOUT))
  until [[ -s "$dir/data/postmaster.pid" ]]; do
    if ((SECONDS >= deadline)); then
      show_log_tail "$dir/postgres.log"
      die "postgres did not write its pid file within ${TIMEOUT}s"
    fi
    sleep 0.2
  done
  head -n1 "$dir/data/postmaster.pid" >"$(pid_file pg)"
}

wait_pg() {
  local port="$1" dir="$DIR/pg" bin
  bin="$(pg_bin_dir)"
  wait_for pg "$dir/postgres.log" "pg_isready on 127.0.0.1:$port" \
    "$bin/pg_isready" -h 127.0.0.1 -p "$port" -U postgres -d postgres
  "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres klaxon ||
    die "createdb klaxon failed on 127.0.0.1:$port"
}

stop_service() {
  local service="$1" pid
  if ! is_running "$service"; then
    rm -f "$(pid_file "$service")"
    return 0
  fi
  pid="$(<"$(pid_file "$service")")"
  if [[ "$service" == pg ]]; then
    as_pg "$(pg_bin_dir)/pg_ctl" stop -D "$DIR/pg/data" -m fast -t "$TIMEOUT" >/dev/null || true
  else
    kill -TERM "$pid" 2>/dev/null || true
  fi
  local deadline=$((SECONDS + TIMEOUT))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "$service (pid $pid) ignored SIGTERM for ${TIMEOUT}s, killing it"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$(pid_file "$service")"
  log "stopped $service (pid $pid)"
}

cmd_down() {
  [[ -d "$DIR" ]] || return 0
  local service
  # Every service is attempted even when an earlier one fails to stop.
  for service in "${SERVICES[@]}"; do
    stop_service "$service" || log "could not stop $service"
  done
}

cmd_status() {
  local service down=0
  for service in "${SERVICES[@]}"; do
    if is_running "$service"; then
      log "$service running (pid $(<"$(pid_file "$service")"))"
    else
      log "$service not running"
      down=1
    fi
  done
  return "$down"
}

cmd_up() {
  mkdir -p "$DIR"
  local service running=0
  for service in "${SERVICES[@]}"; do
    if is_running "$service"; then running=$((running + 1)); fi
  done
  if ((running == ${#SERVICES[@]})) && [[ -f "$DIR/env" ]]; then
    log "already up in $DIR:"
    cat "$DIR/env" >&2
    return 0
  fi
  if ((running > 0)); then
    die "$DIR is partly up ($running of ${#SERVICES[@]} services); run '$0 down $DIR' first"
  fi
  # A stopped stack is replaced, never resumed: tests want empty topics and databases.
  rm -rf "$DIR/kafka" "$DIR/redis" "$DIR/pg" "$DIR/env"

  trap 'log "start failed, stopping what was started"; cmd_down' EXIT
  local kafka_port controller_port redis_port pg_port
  read -r kafka_port controller_port redis_port pg_port < <(free_ports 4)
  # Kafka starts first and slowest; the others come up while its JVM warms.
  start_kafka "$kafka_port" "$controller_port"
  start_redis "$redis_port"
  start_pg "$pg_port"
  wait_redis "$redis_port"
  wait_pg "$pg_port"
  wait_kafka "$kafka_port"
  trap - EXIT

  cat >"$DIR/env" <<EOF
KLAXON_KAFKA_BROKERS=127.0.0.1:$kafka_port
KLAXON_REDIS_URL=redis://127.0.0.1:$redis_port/0
KLAXON_PG_URL=postgresql://postgres@127.0.0.1:$pg_port/klaxon
KLAXON_STACK_DIR=$DIR
KLAXON_STACK_KAFKA_PID=$(<"$(pid_file kafka)")
KLAXON_STACK_REDIS_PID=$(<"$(pid_file redis)")
KLAXON_STACK_PG_PID=$(<"$(pid_file pg)")
EOF
  log "up in $DIR:"
  cat "$DIR/env" >&2
}

# The port SERVICE listens on, from DIR/env.
service_port() {
  local line
  case "$1" in
    kafka) line="$(grep '^KLAXON_KAFKA_BROKERS=' "$DIR/env")" ;;
    redis) line="$(grep '^KLAXON_REDIS_URL=' "$DIR/env")" ;;
    pg) line="$(grep '^KLAXON_PG_URL=' "$DIR/env")" ;;
  esac
  line="${line##*127.0.0.1:}"
  echo "${line%%/*}"
}

cmd_restart() {
  local service="$1" how="$2" port pid
  [[ -f "$DIR/env" ]] && is_running "$service" || die "$service is not running in $DIR"
  port="$(service_port "$service")"
  pid="$(<"$(pid_file "$service")")"
  if [[ "$how" == term ]]; then
    stop_service "$service"
  elif [[ "$service" == pg ]]; then
    # SIGQUIT: every backend exits without a checkpoint, and the next start runs crash recovery.
    as_pg "$(pg_bin_dir)/pg_ctl" stop -D "$DIR/pg/data" -m immediate >/dev/null || true
  else
    kill -KILL "$pid"
  fi
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  case "$service" in
    kafka) run_kafka && wait_kafka "$port" ;;
    redis) start_redis "$port" && wait_redis "$port" ;;
    pg)
      run_pg "$port"
      wait_for pg "$DIR/pg/postgres.log" "pg_isready on 127.0.0.1:$port" \
        "$(pg_bin_dir)/pg_isready" -h 127.0.0.1 -p "$port" -U postgres -d postgres
      ;;
  esac
  sed -i "s/^KLAXON_STACK_${service^^}_PID=.*/KLAXON_STACK_${service^^}_PID=$(<"$(pid_file "$service")")/" \
    "$DIR/env"
  log "restarted $service ($how) on 127.0.0.1:$port"
}

main() {
  if [[ $# -eq 4 && "$1" == restart ]]; then
    DIR="$(realpath -m "$2")"
    readonly DIR
    [[ "$3" =~ ^(kafka|redis|pg)$ && "$4" =~ ^(term|kill)$ ]] || usage
    cmd_restart "$3" "$4"
    return
  fi
  [[ $# -eq 2 ]] || usage
  DIR="$(realpath -m "$2")"
  readonly DIR
  case "$1" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    *) usage ;;
  esac
}

main "$@"
