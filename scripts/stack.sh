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
# With KLAXON_STACK_TLS=1, `up` starts the stack as production runs it: every link encrypted and
# authenticated (docs/adr/0011-encrypted-links.md). It makes a CA and certificates with openssl
# in DIR/tls (ca.crt; server.crt naming 127.0.0.1 and localhost; client.crt, a client certificate
# of that CA; other-ca.crt and other-client.crt, of a CA nobody trusts), random passwords in
# DIR/secrets, and then runs:
#   - Kafka with a single SASL_SSL listener (SCRAM-SHA-512 user klaxon),
#   - Redis with TLS only (tls-port, plaintext port off, client certificates required) and ACL
#     users (default off, klaxon on), reached through an stunnel client on loopback, the sidecar
#     that production runs beside each service because hiredis 0.14 has no TLS,
#   - Postgres with ssl=on that accepts TCP logins only over TLS, with a password.
# DIR/env then holds the KLAXON_KAFKA_*, KLAXON_REDIS_* and KLAXON_PG_* settings for them.
#
# Needs scripts/deps.sh to have run (Kafka jars in ${KLAXON_CACHE:-$HOME/.cache/klaxon}).
# KLAXON_STACK_TIMEOUT (seconds, default 90) bounds each readiness wait.
set -euo pipefail

readonly SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly TIMEOUT="${KLAXON_STACK_TIMEOUT:-90}"
SERVICES=(kafka redis pg)

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
    stunnel) [[ "$comm" == stunnel4 || "$comm" == stunnel ]] ;;
  esac
}

# A TLS stack keeps its certificates in DIR/tls and runs stunnel beside the others.
is_tls() { [[ -d "$DIR/tls" ]]; }
secret() { cat "$DIR/secrets/$1"; }

# make_certs: a CA, a server certificate for loopback, a client certificate, and a second CA
# with a client certificate of its own for refusal tests, in DIR/tls; passwords in DIR/secrets.
make_certs() {
  local tls="$DIR/tls" name
  mkdir -p "$tls" "$DIR/secrets"
  chmod 700 "$DIR/secrets"
  for name in kafka-password redis-password pg-password; do
    head -c 18 /dev/urandom | base64 | tr -d '/+=\n' >"$DIR/secrets/$name"
  done
  head -c 18 /dev/urandom | base64 | tr -d '/+=\n' >"$tls/keystore-password"
  # new_ca NAME: a self-signed CA certificate NAME.crt with its key NAME.key.
  new_ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
      -subj "/CN=klaxon test $1" -keyout "$tls/$1.key" -out "$tls/$1.crt" 2>/dev/null
  }
  # new_cert NAME CA EXTENSIONS: NAME.crt signed by CA, for the given extensions.
  new_cert() {
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$1" \
      -keyout "$tls/$1.key" -out "$tls/$1.csr" 2>/dev/null
    openssl x509 -req -in "$tls/$1.csr" -CA "$tls/$2.crt" -CAkey "$tls/$2.key" \
      -CAcreateserial -days 2 -extfile <(printf '%s\n' "$3") -out "$tls/$1.crt" 2>/dev/null
    rm -f "$tls/$1.csr"
  }
  new_ca ca || die "openssl could not make the CA"
  new_ca other-ca || die "openssl could not make the second CA"
  new_cert server ca "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth" || die "openssl could not make the server certificate"
  new_cert client ca "extendedKeyUsage=clientAuth" ||
    die "openssl could not make the client certificate"
  new_cert other-client other-ca "extendedKeyUsage=clientAuth" ||
    die "openssl could not make the other CA's client certificate"
  # Kafka's broker reads its key and certificate from a PKCS#12 keystore.
  openssl pkcs12 -export -in "$tls/server.crt" -inkey "$tls/server.key" -name server \
    -passout "file:$tls/keystore-password" -out "$tls/server.p12" ||
    die "openssl could not write Kafka's keystore"
  chmod 644 "$tls"/*.crt
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
  if is_tls; then
    "$SCRIPT_DIR/kafka.sh" format-sasl-ssl "$dir" "$port" "$controller_port" "$DIR/tls" klaxon \
      "$DIR/secrets/kafka-password" || die "kafka storage format failed"
  else
    "$SCRIPT_DIR/kafka.sh" format "$dir" "$port" "$controller_port" ||
      die "kafka storage format failed"
  fi
  run_kafka
}

# Runs DIR's formatted broker. Its log starts empty, so wait_kafka sees only this run's lines.
run_kafka() {
  "$SCRIPT_DIR/kafka.sh" run "$DIR/kafka" >"$DIR/kafka/server.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$(pid_file kafka)"
  # Until the background shell has exec'd kafka.sh it is still a copy of this shell, which
  # is_running does not take for the broker. Up to 30 s: on a machine loaded far past its cores
  # (bench-chaos at 1,000 alerts/s, load average 25) 5 s were not enough, and a broker that
  # went on to start was reported dead.
  local tries=600
  while ! is_running kafka && kill -0 "$pid" 2>/dev/null && ((tries-- > 0)); do sleep 0.05; done
}

wait_kafka() {
  local port="$1" dir="$DIR/kafka"
  # The log line is cheap to poll; the metadata round trip (one more JVM) proves the listener
  # really serves clients, which is what the tests need.
  wait_for kafka "$dir/server.log" "'Kafka Server started' log line" \
    grep -q 'Kafka Server started' "$dir/server.log"
  local properties=()
  ! is_tls || properties=("$dir/client.properties")
  wait_for kafka "$dir/server.log" "ApiVersions answer on 127.0.0.1:$port" \
    "$SCRIPT_DIR/kafka.sh" ping "$port" "${properties[@]}"
}

# Redis holds the attempt claims (ADR 0004), so it runs as production must: with an append-only
# file that is written before each reply and fsynced every second. A killed or restarted
# redis-server reloads every write it acknowledged from that file (restart reuses DIR); only a
# crash of the machine itself can lose the last second.
start_redis() {
  local port="$1" dir="$DIR/redis" config=()
  mkdir -p "$dir"
  if is_tls; then
    # TLS only, on the same port a plaintext Redis would use; the ACL lines hold a password, so
    # they live in a private file rather than on the command line.
    (
      umask 077
      cat >"$dir/tls.conf" <<EOF
port 0
tls-port $port
tls-cert-file $DIR/tls/server.crt
tls-key-file $DIR/tls/server.key
tls-ca-cert-file $DIR/tls/ca.crt
tls-auth-clients yes
user default off
user klaxon on >$(secret redis-password) ~* &* +@all
EOF
    )
    config=("$dir/tls.conf")
  else
    config=(--port "$port")
  fi
  redis-server "${config[@]}" --bind 127.0.0.1 --save '' --appendonly yes \
    --appendfsync everysec --dir "$dir" --logfile "$dir/redis.log" --daemonize no \
    </dev/null >/dev/null 2>&1 &
  echo $! >"$(pid_file redis)"
}

# The TLS side of Redis is reached through stunnel: a client that cannot speak TLS (hiredis 0.14)
# talks plaintext to 127.0.0.1:PORT, and stunnel carries it over TLS to Redis, checking Redis's
# certificate against the CA and presenting the client certificate.
start_stunnel() {
  local port="$1" redis_port="$2" dir="$DIR/stunnel"
  mkdir -p "$dir"
  cat >"$dir/stunnel.conf" <<EOF
foreground = yes
pid =
[redis]
client = yes
accept = 127.0.0.1:$port
connect = 127.0.0.1:$redis_port
CAfile = $DIR/tls/ca.crt
verifyChain = yes
checkIP = 127.0.0.1
cert = $DIR/tls/client.crt
key = $DIR/tls/client.key
EOF
  stunnel4 "$dir/stunnel.conf" </dev/null >"$dir/stunnel.log" 2>&1 &
  echo $! >"$(pid_file stunnel)"
}

redis_pongs() {
  if is_tls; then
    [[ "$(REDISCLI_AUTH="$(secret redis-password)" redis-cli -h 127.0.0.1 -p "$1" --user klaxon \
      ping 2>/dev/null)" == PONG ]]
  else
    [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == PONG ]]
  fi
}

# Waits for PONG on PORT: Redis's own port, or in a TLS stack stunnel's, through the whole chain.
wait_redis() {
  local service=redis logfile="$DIR/redis/redis.log"
  if is_tls; then
    service=stunnel
    logfile="$DIR/stunnel/stunnel.log"
  fi
  wait_for "$service" "$logfile" "PONG on 127.0.0.1:$1" redis_pongs "$1"
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
  if is_tls; then
    # TCP logins only over TLS and with a password; the stack's own setup uses the socket.
    cat >"$dir/data/pg_hba.conf" <<EOF
local all all trust
hostssl all all 127.0.0.1/32 scram-sha-256
EOF
    cp "$DIR/tls/server.crt" "$DIR/tls/server.key" "$dir/"
    chmod 600 "$dir/server.key"
    [[ $(id -u) -ne 0 ]] || chown postgres: "$dir/server.crt" "$dir/server.key"
  else
    cat >"$dir/data/pg_hba.conf" <<EOF
local all all trust
host all all 127.0.0.1/32 trust
EOF
  fi
  run_pg "$port"
}

pg_tls_options() {
  if is_tls; then
    echo "-c ssl=on -c ssl_cert_file=$DIR/pg/server.crt -c ssl_key_file=$DIR/pg/server.key"
  fi
}

# Starts DIR's initialized cluster and records the postmaster's pid.
run_pg() {
  local port="$1" dir="$DIR/pg" bin
  bin="$(pg_bin_dir)"
  # fsync off: a test database that is thrown away does not need crash safety, and it
  # keeps schema setup fast on slow disks.
  as_pg "$bin/pg_ctl" start -D "$dir/data" -l "$dir/postgres.log" -W \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' -c fsync=off $(pg_tls_options)" \
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
  if is_tls; then
    "$bin/createdb" -h "$dir" -p "$port" -U postgres klaxon ||
      die "createdb klaxon failed on $dir:$port"
    "$bin/psql" -q -h "$dir" -p "$port" -U postgres -d klaxon -v ON_ERROR_STOP=1 \
      -c "ALTER USER postgres PASSWORD '$(secret pg-password)'" >/dev/null ||
      die "could not set the postgres user's password"
  else
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres klaxon ||
      die "createdb klaxon failed on 127.0.0.1:$port"
  fi
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
  rm -rf "$DIR/kafka" "$DIR/redis" "$DIR/pg" "$DIR/stunnel" "$DIR/tls" "$DIR/secrets" "$DIR/env"

  trap 'log "start failed, stopping what was started"; cmd_down' EXIT
  if [[ "${KLAXON_STACK_TLS:-0}" == 1 ]]; then
    make_certs
    SERVICES+=(stunnel)
  fi
  local kafka_port controller_port redis_port pg_port stunnel_port
  read -r kafka_port controller_port redis_port pg_port stunnel_port < <(free_ports 5)
  # Kafka starts first and slowest; the others come up while its JVM warms.
  start_kafka "$kafka_port" "$controller_port"
  start_redis "$redis_port"
  start_pg "$pg_port"
  local client_redis_port="$redis_port"
  if is_tls; then
    start_stunnel "$stunnel_port" "$redis_port"
    client_redis_port="$stunnel_port"
  fi
  wait_redis "$client_redis_port"
  wait_pg "$pg_port"
  wait_kafka "$kafka_port"
  trap - EXIT

  if is_tls; then
    cat >"$DIR/env" <<EOF
KLAXON_KAFKA_BROKERS=127.0.0.1:$kafka_port
KLAXON_KAFKA_SECURITY_PROTOCOL=SASL_SSL
KLAXON_KAFKA_SASL_MECHANISM=SCRAM-SHA-512
KLAXON_KAFKA_SASL_USERNAME=klaxon
KLAXON_KAFKA_SASL_PASSWORD_FILE=$DIR/secrets/kafka-password
KLAXON_KAFKA_SSL_CA_FILE=$DIR/tls/ca.crt
KLAXON_REDIS_URL=redis://127.0.0.1:$stunnel_port/0
KLAXON_REDIS_USERNAME=klaxon
KLAXON_REDIS_PASSWORD_FILE=$DIR/secrets/redis-password
KLAXON_PG_URL=postgresql://postgres:$(secret pg-password)@127.0.0.1:$pg_port/klaxon
KLAXON_PG_SSLMODE=verify-full
KLAXON_PG_SSLROOTCERT_FILE=$DIR/tls/ca.crt
KLAXON_STACK_TLS_DIR=$DIR/tls
KLAXON_STACK_REDIS_PORT=$redis_port
KLAXON_STACK_STUNNEL_PID=$(<"$(pid_file stunnel)")
EOF
  else
    cat >"$DIR/env" <<EOF
KLAXON_KAFKA_BROKERS=127.0.0.1:$kafka_port
KLAXON_REDIS_URL=redis://127.0.0.1:$redis_port/0
KLAXON_PG_URL=postgresql://postgres@127.0.0.1:$pg_port/klaxon
EOF
  fi
  cat >>"$DIR/env" <<EOF
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
    redis) line="$(grep '^KLAXON_STACK_REDIS_PORT=\|^KLAXON_REDIS_URL=' "$DIR/env" | sort | tail -n1)" ;;
    pg) line="$(grep '^KLAXON_PG_URL=' "$DIR/env")" ;;
  esac
  line="${line##*127.0.0.1:}"
  line="${line##*_PORT=}"
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
    ! is_tls || SERVICES+=(stunnel)
    [[ "$3" =~ ^(kafka|redis|pg)$ && "$4" =~ ^(term|kill)$ ]] || usage
    cmd_restart "$3" "$4"
    return
  fi
  [[ $# -eq 2 ]] || usage
  DIR="$(realpath -m "$2")"
  readonly DIR
  # `up` decides afresh from KLAXON_STACK_TLS; the others follow what DIR holds.
  [[ "$1" == up ]] || ! is_tls || SERVICES+=(stunnel)
  case "$1" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    *) usage ;;
  esac
}

main "$@"
