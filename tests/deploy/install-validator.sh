#!/usr/bin/env bash
# Installs what validate-manifests.mjs needs from the npm registry into
# ${KLAXON_CACHE:-$HOME/.cache/klaxon}/k8s-validate: kubernetes-models (the Kubernetes API's
# schemas as validators) and yaml (to read kubectl's output). Idempotent: npm is not called when
# the pinned versions are there. Prints the node_modules directory.
set -euo pipefail

readonly npm_install="$(dirname "${BASH_SOURCE[0]}")/../../scripts/npm-install.sh"
"${npm_install}" kubernetes-models 5.1.0 k8s-validate >/dev/null
exec "${npm_install}" yaml 2.9.1 k8s-validate
