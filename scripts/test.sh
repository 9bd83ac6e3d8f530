#!/usr/bin/env bash
# Klaxon's whole test suite, as CI runs it:
#   1. scripts/deps.sh (a no-op when everything is installed),
#   2. two build trees: build/release (RelWithDebInfo) and build/asan (Debug with
#      -DKLAXON_SANITIZE=address,undefined), through ccache when it is installed,
#   3. a private Kafka + Redis + Postgres from scripts/stack.sh in a temporary directory, stopped
#      and removed on exit whatever happens,
#   4. ctest --output-on-failure in both trees, unit and integration tests alike, with the
#      KLAXON_TEST_* variables pointing at that stack (tests labelled "timing" in release only).
# Exits non-zero if any build or test failed and ends with both trees' ctest summaries.
#
#   scripts/test.sh                 everything
#   KLAXON_TEST_JOBS=2 scripts/test.sh   run ctest with 2 jobs (tests use unique prefixes, but
#                                   a 2-core machine is faster with one job at a time)
#   scripts/test.sh -R kafka        extra arguments go to both ctest runs
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly JOBS="${KLAXON_TEST_JOBS:-1}"
readonly CTEST_ARGS=("$@")

log() { printf '\ntest.sh: %s\n' "$*" >&2; }

"$ROOT/scripts/deps.sh"

"$ROOT/scripts/build.sh" release
"$ROOT/scripts/build.sh" asan

stack_dir="$(mktemp -d -t klaxon-test-stack.XXXXXX)"
# Quiet unless stopping fails, so the run still ends with ctest's summaries.
cleanup() {
  local output
  if ! output="$("$ROOT/scripts/stack.sh" down "$stack_dir" 2>&1)"; then
    printf '%s\n' "$output" >&2
  fi
  rm -rf "$stack_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
"$ROOT/scripts/stack.sh" up "$stack_dir"

# DIR/env holds KLAXON_KAFKA_BROKERS=... lines; tests read the KLAXON_TEST_* names so a developer's
# own KLAXON_* settings can never point a test at a real deployment.
while IFS='=' read -r key value; do
  case "$key" in
    KLAXON_KAFKA_BROKERS) export KLAXON_TEST_KAFKA_BROKERS="$value" ;;
    KLAXON_REDIS_URL) export KLAXON_TEST_REDIS_URL="$value" ;;
    KLAXON_PG_URL) export KLAXON_TEST_PG_URL="$value" ;;
  esac
done <"$stack_dir/env"

export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
if [[ -f "$ROOT/scripts/lsan.supp" ]]; then
  export LSAN_OPTIONS="suppressions=$ROOT/scripts/lsan.supp:print_suppressions=0"
fi

failed=0
# run_ctest NAME [ARGS]: runs one tree's tests, keeping its output for the closing summary.
run_ctest() {
  local name="$1"
  shift
  log "ctest in build/$name"
  if ! ctest --test-dir "$ROOT/build/$name" --output-on-failure -j "$JOBS" "$@" "${CTEST_ARGS[@]}" \
    2>&1 | tee "$stack_dir/ctest-$name.log"; then
    failed=1
  fi
}
run_ctest release
# Tests labelled "timing" (pacing rates, the chaos run) measure wall-clock behaviour that the
# sanitizers' slowdown would distort; they run in the release tree only.
run_ctest asan -LE timing

# ctest's own summary of each tree, from its "tests passed" line to the end.
for name in release asan; do
  printf '\n== build/%s ==\n' "$name"
  sed -n '/tests passed\|No tests were found/,$p' "$stack_dir/ctest-$name.log"
done
exit "$failed"
