#!/usr/bin/env bash
# Fuzzes the parsers of untrusted webhook input (tests/fuzz) with libFuzzer, ASan and UBSan:
#   1. scripts/deps.sh (a no-op when everything is installed; clang-14 and its runtimes included),
#   2. build/fuzz: clang++-14 with -DKLAXON_FUZZ=ON, which builds only common/http, the Twilio
#      signature and tests/fuzz (no gRPC, Kafka or database libraries),
#   3. every target of tests/fuzz for SECONDS, one after another (the machine's cores are shared),
#      starting from its seed corpus tests/fuzz/corpus/NAME. New inputs go to the scratch corpus
#      build/fuzz/corpus/NAME, which later runs continue from; the repository's corpus grows only
#      when you copy an input there on purpose.
# Exits non-zero when a target crashed, leaked, hit undefined behaviour, timed out or violated one
# of its properties; the input is saved as build/fuzz/artifacts/NAME/crash-* (or leak-*,
# timeout-*) and `build/fuzz/tests/fuzz/NAME FILE` reproduces it. Logs: build/fuzz/logs/NAME.log.
#
#   scripts/fuzz.sh          600 s per target
#   scripts/fuzz.sh 60       a quick look
#   scripts/fuzz.sh 600 request_framer_fuzzer    one target (or several, by name)
#
# Not part of scripts/test.sh (too long for CI); test.sh replays the seed corpora instead
# (ctest -R _fuzzer_replay).
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly SECONDS_PER_TARGET="${1:-600}"
readonly BUILD="$ROOT/build/fuzz"
readonly ALL_TARGETS=(form_fuzzer signature_fuzzer request_framer_fuzzer)
if [[ $# -gt 1 ]]; then
  TARGETS=("${@:2}")
else
  TARGETS=("${ALL_TARGETS[@]}")
fi
readonly TARGETS

if ! [[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [SECONDS [TARGET...]]   (seconds per target, default 600; all targets)" >&2
  exit 2
fi
for target in "${TARGETS[@]}"; do
  if [[ ! " ${ALL_TARGETS[*]} " == *" $target "* ]]; then
    echo "unknown fuzz target $target (one of: ${ALL_TARGETS[*]})" >&2
    exit 2
  fi
done

log() { printf '\nfuzz.sh: %s\n' "$*" >&2; }

"$ROOT/scripts/deps.sh"

args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DKLAXON_FUZZ=ON -DKLAXON_SANITIZE=address,undefined
  -DCMAKE_CXX_COMPILER=clang++-14)
if command -v ccache >/dev/null; then
  args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=true
fi
log "building build/fuzz"
if [[ ! -f "$BUILD/build.ninja" ]]; then
  CC=clang-14 CXX=clang++-14 cmake -S "$ROOT" -B "$BUILD" -G Ninja "${args[@]}" >/dev/null
fi
ninja -C "$BUILD" -j"${KLAXON_BUILD_JOBS:-2}" "${TARGETS[@]}"

export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

mkdir -p "$BUILD/logs"
failed=()
summary=()
for target in "${TARGETS[@]}"; do
  corpus="$BUILD/corpus/$target"
  artifacts="$BUILD/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  log "$target for ${SECONDS_PER_TARGET}s (log: build/fuzz/logs/$target.log)"
  status=0
  # The scratch corpus comes first: libFuzzer writes new inputs only to the first directory.
  "$BUILD/tests/fuzz/$target" "$corpus" "$ROOT/tests/fuzz/corpus/$target" \
    -max_total_time="$SECONDS_PER_TARGET" -max_len=70000 -timeout=30 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" >"$BUILD/logs/$target.log" 2>&1 || status=$?
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$BUILD/logs/$target.log" | tail -n1)"
  coverage="$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*/[^ ]*' "$BUILD/logs/$target.log" |
    tail -n1 || true)"
  summary+=("$target: exit $status, ${runs:-?} executions, ${coverage:-no coverage line}")
  if [[ $status -ne 0 ]]; then
    failed+=("$target")
    tail -n 40 "$BUILD/logs/$target.log" >&2
  fi
done

printf '\n== fuzz.sh: %ss per target ==\n' "$SECONDS_PER_TARGET"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  printf 'FAILED: %s (inputs in build/fuzz/artifacts/)\n' "${failed[*]}"
  exit 1
fi
