#!/usr/bin/env bash
# bench/cost-model.sh: what one alert costs the whole suite. Runs a load command (bench-delivery,
# bench-sendalert, bench-webhook) against the suite that scripts/run.sh started, waits for the
# work it caused to settle (status callbacks, audit's writes), and reports per unit of load:
#   - CPU time (user + system, from /proc/PID/stat, children included) of every process of the
#     suite: ingress, each sms-worker, voice-worker, audit, the Twilio sandbox, Kafka, Redis,
#     Postgres (the postmaster and all its backends) and the load generator itself;
#   - Kafka messages written per topic (klaxon-admin topic-offsets);
#   - Redis commands by command (INFO commandstats);
#   - Postgres transactions, and rows inserted and updated per table (pg_stat_*).
#
#   bench/cost-model.sh [--per PATH] [--settle SECONDS] [--warmup] -- COMMAND [ARGS...]
#
# PATH is the jq path of the count, in the JSON line COMMAND prints on stdout, that the costs are
# divided by: .delivery.accepted (bench-delivery's alerts accepted by Twilio, the default), or
# e.g. .ok for bench-sendalert. --settle (default 20) is how long to wait after COMMAND ends before the last
# reading; Postgres publishes its statistics at least once a second. --warmup runs COMMAND once
# more first, unmeasured, and settles after it: Kafka's JVM compiles its hot paths during the
# first minute of load, which on a suite fresh from scripts/run.sh doubled Kafka's CPU per alert
# (3.17 ms against 1.75 ms on the next run, bench/README.md). Reads build/run (the pid
# files and client.env of scripts/run.sh) and build/run/stack/env. Prints a Markdown report on
# stdout (COMMAND's own JSON line goes to stderr, prefixed "load:").
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly RUN="$ROOT/build/run"
readonly ADMIN="$ROOT/build/release/tools/klaxon-admin/klaxon-admin"

die() {
  printf 'cost-model: %s\n' "$*" >&2
  exit 2
}

per_field=.delivery.accepted
settle=20
warmup=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --per) per_field="$2"; shift 2 ;;
    --settle) settle="$2"; shift 2 ;;
    --warmup) warmup=true; shift ;;
    --) shift; break ;;
    *) die "unknown argument $1 (usage: $0 [--per PATH] [--settle SECONDS] [--warmup] -- COMMAND ...)" ;;
  esac
done
[[ $# -gt 0 ]] || die "no load command given (usage: $0 [--per PATH] [--settle SECONDS] [--warmup] -- COMMAND ...)"
[[ -f "$RUN/stack/env" && -f "$RUN/client.env" ]] || die "no suite in $RUN: start it with scripts/run.sh"
[[ -x "$ADMIN" ]] || die "$ADMIN is missing: scripts/build.sh release"
set -a
# shellcheck disable=SC1091
. "$RUN/stack/env"
set +a
# shellcheck disable=SC1091
. "$RUN/client.env"

readonly TICKS_PER_SECOND="$(getconf CLK_TCK)"

# The suite's processes as "NAME PID" lines: Klaxon's from scripts/run.sh's pid files, the stores
# from the stack's.
suite_processes() {
  local pid_file
  for pid_file in "$RUN"/*.pid; do
    [[ -e "$pid_file" ]] && echo "$(basename "$pid_file" .pid) $(<"$pid_file")"
  done
  echo "kafka $KLAXON_STACK_KAFKA_PID"
  echo "redis $KLAXON_STACK_REDIS_PID"
  echo "postgres $KLAXON_STACK_PG_PID"
}

# Clock ticks PID and every process below it have used: utime + stime of the live ones, plus the
# cutime + cstime of what they reaped (Postgres backends that ended).
tree_ticks() {
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { parent[$1] = $2 }
    END {
      for (pid in parent) {
        p = pid
        while (p != root && p in parent && p != 0 && p != 1) p = parent[p]
        if (p == root) print pid
      }
    }' | while read -r pid; do
    # Fields after the ")" that ends the command name: utime is the 12th, then stime, cutime, cstime.
    sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }'
  done | awk '{ sum += $1 } END { print sum + 0 }'
}

# One reading of everything, as "KEY VALUE" lines.
reading() {
  local name pid
  while read -r name pid; do
    echo "cpu:$name $(tree_ticks "$pid")"
  done < <(suite_processes)
  "$ADMIN" topic-offsets | sed 's/^/kafka:/'
  redis-cli -u "$KLAXON_REDIS_URL" INFO commandstats |
    tr -d '\r' | sed -n 's/^cmdstat_\([^:]*\):calls=\([0-9]*\),.*/redis:\1 \2/p'
  psql -X -At -F ' ' "$KLAXON_PG_URL" -c "
    SELECT 'pg:transactions', xact_commit + xact_rollback FROM pg_stat_database
      WHERE datname = current_database()
    UNION ALL SELECT 'pg:inserted:' || relname, n_tup_ins FROM pg_stat_user_tables
    UNION ALL SELECT 'pg:updated:' || relname, n_tup_upd FROM pg_stat_user_tables"
}

before="$(mktemp)"
after="$(mktemp)"
load_out="$(mktemp)"
load_status="$(mktemp)"
trap 'rm -f "$before" "$after" "$load_out" "$load_status"' EXIT

if [[ "$warmup" == true ]]; then
  echo "cost-model: warming the suite up with one unmeasured run, then ${settle} s to settle" >&2
  "$@" >/dev/null 2>&1 || echo "cost-model: the warm-up run exited $?" >&2
  sleep "$settle"
fi

reading >"$before"
# The load generator is this subshell's child: `times` reports its CPU on its second line.
generator_cpu="$(
  {
    # A load that fell short (exit 3) still cost what it cost: report it, then its status.
    "$@" >"$load_out" || echo "$?" >"$load_status"
    times
  } | tail -n1
)"
sleep "$settle"
reading >"$after"

sed 's/^/load: /' "$load_out" >&2
[[ -s "$load_status" ]] && printf 'cost-model: the load command exited %s\n' "$(<"$load_status")" >&2
units="$(jq -r "select(type == \"object\") | $per_field // empty" "$load_out" | tail -n1)"
[[ -n "$units" && "$units" != 0 ]] || die "the load command's JSON line has no non-zero $per_field"

# "0m1.230s 0m0.450s" -> seconds of user + system time
generator_seconds="$(awk '{ gsub(/s/, "", $1); gsub(/s/, "", $2); split($1, u, "m"); split($2, s, "m");
  print u[1] * 60 + u[2] + s[1] * 60 + s[2] }' <<<"$generator_cpu")"

echo "## Cost per unit of $per_field ($units units)"
echo
echo "Load: \`$*\`, then ${settle} s to settle$([[ "$warmup" == true ]] && echo ", after one unmeasured run of it")."
echo
awk -v units="$units" -v hz="$TICKS_PER_SECOND" -v generator="$generator_seconds" '
  FNR == NR { start[$1] = $2; next }
  { delta[$1] = $2 - start[$1]; order[++n] = $1 }
  END {
    print "| process | CPU seconds | CPU ms per unit |"
    print "| --- | --- | --- |"
    for (i = 1; i <= n; i++) {
      key = order[i]
      if (key !~ /^cpu:/) continue
      seconds = delta[key] / hz
      total += seconds
      printf "| %s | %.2f | %.3f |\n", substr(key, 5), seconds, 1000 * seconds / units
    }
    total += generator
    printf "| load generator | %.2f | %.3f |\n", generator, 1000 * generator / units
    printf "| **total** | **%.2f** | **%.3f** |\n\n", total, 1000 * total / units
    print "| counter | during the run | per unit |"
    print "| --- | --- | --- |"
    for (i = 1; i <= n; i++) {
      key = order[i]
      if (key ~ /^cpu:/ || delta[key] == 0) continue
      printf "| %s | %d | %.2f |\n", key, delta[key], delta[key] / units
    }
  }' "$before" "$after"
