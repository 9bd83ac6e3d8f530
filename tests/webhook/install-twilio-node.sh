#!/usr/bin/env bash
# Installs twilio, Twilio's official Node.js helper library (whose getExpectedTwilioSignature the
# webhook test signs its requests with), into ${KLAXON_CACHE:-$HOME/.cache/klaxon}/twilio-node.
# Idempotent: does nothing when the pinned version is already there. Prints the node_modules
# directory to put in NODE_PATH.
set -euo pipefail

readonly version="6.2.0"
exec "$(dirname "${BASH_SOURCE[0]}")/../../scripts/npm-install.sh" twilio "${version}" twilio-node
