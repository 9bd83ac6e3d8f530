#!/usr/bin/env bash
# Klaxon's whole test suite, as CI runs it:
#   1. scripts/deps.sh (a no-op when everything is installed),
#   2. two build trees, through ccache when it is installed: build/asan (Debug with
#      -DKLAXON_SANITIZE=address,undefined), all of it, and build/release (RelWithDebInfo), its
#      executables and the tests labelled "release-tree" (the target release-tree-suite),
#   3. a private Kafka + Redis + Postgres from scripts/stack.sh in a temporary directory, stopped
#      and removed on exit whatever happens,
#   4. ctest --output-on-failure, unit and integration tests alike, with the KLAXON_TEST_*
#      variables pointing at that stack. Each test runs once (ADR 0031): those labelled
#      "release-tree" (wall-clock timing, the images, the manifests, the load generators' own
#      tests) in build/release, one at a time, and every other one under the sanitizers in
#      build/asan, two at a time (KLAXON_TEST_JOBS below, ADR 0015).
# Exits non-zero if any build or test failed and ends with every ctest run's summary.
#
#   scripts/test.sh                        everything
#   KLAXON_TEST_JOBS=1 scripts/test.sh     the sanitizer tree's tests one at a time (about 3.5 minutes
#                                          slower; the default is two at a time, ADR 0015)
#   scripts/test.sh -R kafka               extra arguments go to every ctest run
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly JOBS="${KLAXON_TEST_JOBS:-2}"
readonly CTEST_ARGS=("$@")

log() { printf '\ntest.sh: %s\n' "$*" >&2; }

"$ROOT/scripts/deps.sh"

"$ROOT/scripts/build.sh" release release-tree-suite
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
runs=()
# run_ctest TREE RUN [ARGS]: runs tests of build/TREE, keeping the output for the closing summary.
run_ctest() {
  local tree="$1" run="$2"
  shift 2
  log "ctest in build/$tree ($run)"
  runs+=("$run")
  if ! ctest --test-dir "$ROOT/build/$tree" --output-on-failure "$@" "${CTEST_ARGS[@]}" \
    2>&1 | tee "$stack_dir/ctest-$run.log"; then
    failed=1
  fi
}
# The release tree's tests include those labelled "timing" (pacing rates, the chaos run, latency
# under attack), which measure wall-clock behaviour: they run one at a time, never beside another.
run_ctest release release -L release-tree -j 1
run_ctest asan asan -LE release-tree -j "$JOBS"

# ctest's own summary of each run, from its "tests passed" line to the end.
for run in "${runs[@]}"; do
  printf '\n== %s ==\n' "$run"
  sed -n '/tests passed\|No tests were found/,$p' "$stack_dir/ctest-$run.log"
done
exit "$failed"
