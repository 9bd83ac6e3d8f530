#!/usr/bin/env bash
# Installs one npm package at an exact version into a directory of Klaxon's tool cache, for the
# tests that run a tool or library from the npm registry (Prism, Twilio's helper library).
#
#   scripts/npm-install.sh PACKAGE VERSION NAME
#
# installs PACKAGE@VERSION with `npm install --prefix ${KLAXON_CACHE:-$HOME/.cache/klaxon}/NAME`
# and prints that directory's node_modules. Idempotent: when node_modules/PACKAGE/package.json
# already says VERSION, npm is not called at all.
set -euo pipefail

[[ $# -eq 3 ]] || {
  echo "usage: $0 PACKAGE VERSION NAME" >&2
  exit 2
}
readonly package="$1" version="$2"
readonly prefix="${KLAXON_CACHE:-$HOME/.cache/klaxon}/$3"
readonly manifest="${prefix}/node_modules/${package}/package.json"

installed_version() {
  node -e 'process.stdout.write(String(require(process.argv[1]).version))' "${manifest}" \
    2>/dev/null || true
}

if [[ "$(installed_version)" != "${version}" ]]; then
  mkdir -p "${prefix}"
  npm install --prefix "${prefix}" --save-exact --no-audit --no-fund --loglevel=error \
    "${package}@${version}" >&2
  if [[ "$(installed_version)" != "${version}" ]]; then
    echo "$0: npm finished but ${manifest} does not say ${version}" >&2
    exit 1
  fi
fi
echo "${prefix}/node_modules"
