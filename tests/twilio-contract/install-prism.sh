#!/usr/bin/env bash
# Installs @stoplight/prism-cli (the OpenAPI validating mock used by the Twilio contract test)
# into ${KLAXON_CACHE:-$HOME/.cache/klaxon}/prism. Idempotent: does nothing when the pinned
# version is already there. Prints the path of the prism binary.
set -euo pipefail

readonly version="5.16.0"
node_modules="$("$(dirname "${BASH_SOURCE[0]}")/../../scripts/npm-install.sh" \
  @stoplight/prism-cli "${version}" prism)"
readonly binary="${node_modules}/.bin/prism"
"${binary}" --version >/dev/null
echo "${binary}"
