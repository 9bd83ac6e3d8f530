#!/usr/bin/env bash
# Installs @stoplight/prism-cli (the OpenAPI validating mock used by the Twilio contract test)
# into ${KLAXON_CACHE:-$HOME/.cache/klaxon}/prism. Idempotent: does nothing when the pinned
# version is already there. Prints the path of the prism binary.
set -euo pipefail

readonly version="5.16.0"
readonly prefix="${KLAXON_CACHE:-$HOME/.cache/klaxon}/prism"
readonly binary="${prefix}/node_modules/.bin/prism"

if [[ -x "${binary}" ]] && [[ "$("${binary}" --version 2>/dev/null)" == "${version}" ]]; then
  echo "${binary}"
  exit 0
fi

mkdir -p "${prefix}"
npm install --prefix "${prefix}" --no-audit --no-fund --loglevel=error \
  "@stoplight/prism-cli@${version}" >&2
"${binary}" --version >/dev/null
echo "${binary}"
