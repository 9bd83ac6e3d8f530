#!/usr/bin/env bash
# Configures and builds one build tree, through ccache when it is installed.
#   scripts/build.sh release   RelWithDebInfo in build/release (what scripts/run.sh runs)
#   scripts/build.sh asan      Debug with ASan+UBSan in build/asan (what scripts/test.sh adds),
#                              without the load generators under bench/
#   scripts/build.sh TREE TARGET...   only those targets (and what they need)
# A tree that is up to date costs one no-op ninja run.
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

case "${1:-}" in
  release) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  # Debug keeps assertions on and compiles faster; the sanitizers are what this tree is for.
  # It only runs tests: the load generators under bench/ are for the release tree.
  asan) args=(-DCMAKE_BUILD_TYPE=Debug -DKLAXON_SANITIZE=address,undefined -DKLAXON_BUILD_BENCH=OFF) ;;
  *)
    echo "usage: $0 release|asan" >&2
    exit 2
    ;;
esac
readonly name="$1"
shift

if command -v ccache >/dev/null; then
  args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Relative paths in the cache key, so another clone of the repository (CI's) reuses the cache.
  export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=true
fi
printf 'build.sh: building build/%s\n' "$name" >&2
if [[ ! -f "$ROOT/build/$name/build.ninja" ]]; then
  cmake -S "$ROOT" -B "$ROOT/build/$name" -G Ninja "${args[@]}" >/dev/null
fi
ninja -C "$ROOT/build/$name" -j"${KLAXON_BUILD_JOBS:-2}" "$@"
