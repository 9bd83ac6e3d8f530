#!/usr/bin/env bash
# Renders each kustomization of deploy/k8s with `kubectl kustomize` and validates every object
# (validate-manifests.mjs: the Kubernetes API schemas, mounted secrets, images, NetworkPolicies,
# and in the prod overlay every link's TLS and authentication settings). Fails on the first
# kustomization that does not render or validate.
#
#   tests/deploy/manifests_test.sh [KUSTOMIZATION...]   default: base, overlays/dev,
#                                                       overlays/prod, monitoring
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly K8S="$ROOT/deploy/k8s"
command -v kubectl >/dev/null || { echo "kubectl is missing: run scripts/deps.sh" >&2; exit 1; }
KLAXON_VALIDATOR_MODULES="$("$ROOT/tests/deploy/install-validator.sh")"
export KLAXON_VALIDATOR_MODULES

work="$(mktemp -d -t klaxon-manifests.XXXXXX)"
trap 'rm -rf "$work"' EXIT

kustomizations=("$@")
[[ ${#kustomizations[@]} -gt 0 ]] || kustomizations=(base overlays/dev overlays/prod monitoring)
echo "kubectl: $(kubectl version --client 2>/dev/null | grep -i -m1 kustomize || kubectl version --client 2>&1 | head -1)"
for kustomization in "${kustomizations[@]}"; do
  rendered="$work/${kustomization//\//-}.yaml"
  # Newer kubectls warn about the kustomize v2 fields the manifests keep for Debian's kubectl.
  if ! kubectl kustomize "$K8S/$kustomization" >"$rendered" 2>"$work/stderr"; then
    cat "$work/stderr" >&2
    echo "FAIL: $kustomization does not render" >&2
    exit 1
  fi
  flags=(--images "$ROOT/deploy/images")
  [[ "$kustomization" == overlays/prod ]] && flags+=(--require-tls)
  if ! node "$ROOT/tests/deploy/validate-manifests.mjs" "${flags[@]}" "$rendered"; then
    echo "FAIL: $kustomization" >&2
    exit 1
  fi
  echo "ok: $kustomization"
done
