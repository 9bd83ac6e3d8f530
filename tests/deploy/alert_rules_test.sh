#!/usr/bin/env bash
# Checks deploy/k8s/monitoring's alert rules with promtool (Debian's prometheus package): their
# syntax and expressions (`promtool check rules`), then their unit tests (`promtool test rules`,
# alert-rules_test.yaml).
set -euo pipefail

readonly MONITORING="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../deploy/k8s/monitoring" && pwd)"
command -v promtool >/dev/null || { echo "promtool is missing: run scripts/deps.sh" >&2; exit 1; }
cd "$MONITORING"
promtool check rules alert-rules.yaml
promtool test rules alert-rules_test.yaml
