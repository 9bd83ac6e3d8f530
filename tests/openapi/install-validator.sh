#!/usr/bin/env bash
# Installs @apidevtools/swagger-parser (a standard OpenAPI 2/3 validator: the OpenAPI schema and
# the specification's rules, $refs resolved) into ${KLAXON_CACHE:-$HOME/.cache/klaxon}/
# openapi-validator. Idempotent: npm is not called when the pinned version is there. Prints the
# node_modules directory.
set -euo pipefail

exec "$(dirname "${BASH_SOURCE[0]}")/../../scripts/npm-install.sh" @apidevtools/swagger-parser \
  12.1.0 openapi-validator
