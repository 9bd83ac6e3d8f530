#!/usr/bin/env bash
# Builds Klaxon's container images with buildah from the binaries of the release build tree,
# without compiling anything again (ADR 0010):
#
#   scripts/images.sh                 every image: ingress sms-worker voice-worker audit admin
#                                     klaxonctl stunnel
#   scripts/images.sh ingress audit   only these
#   scripts/images.sh --sizes         the size of each image, as `buildah images` reports it
#
# Each image is klaxon/NAME:${KLAXON_IMAGE_TAG:-dev} (the dev overlay's tag), built from
# deploy/images/NAME.Containerfile. The steps, each skipped when its result is already there:
#   1. debian:bookworm-slim: pulled if a registry answers, else written from Debian's archive by
#      mmdebstrap (variant apt, merged /usr, the dpkg path excludes of the official slim image)
#      and imported under that name.
#   2. klaxon/runtime-base:KEY: debian:bookworm-slim plus the Debian packages that hold the shared
#      libraries the binaries link, found with ldd and dpkg -S; KEY hashes the package list.
#   3. each Klaxon image from its stripped binaries (build/release/images/context/NAME), labelled
#      with the git revision (org.opencontainers.image.revision) and with a key hashing its
#      Containerfile, binaries, base and revision: an image whose key has not changed is kept.
# buildah runs with --isolation chroot: the runtimes of these machines cannot set rlimits.
#
# KLAXON_BUILD_DIR   the build tree (default build/release; scripts/build.sh release makes it)
# KLAXON_DEBIAN_MIRROR, KLAXON_DEBIAN_SECURITY_MIRROR   where mmdebstrap fetches from
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly BUILD="${KLAXON_BUILD_DIR:-$ROOT/build/release}"
readonly TAG="${KLAXON_IMAGE_TAG:-dev}"
readonly IMAGES_DIR="$ROOT/deploy/images"
readonly CONTEXTS="$BUILD/images/context"
readonly SLIM=docker.io/library/debian:bookworm-slim
readonly MIRROR="${KLAXON_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
readonly SECURITY_MIRROR="${KLAXON_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
readonly KEY_LABEL=org.klaxon.build-key

# The binaries of each image (the first is its entrypoint) and where the build tree has them.
declare -A IMAGE_BINARIES=(
  [ingress]="klaxon-ingress"
  [sms-worker]="klaxon-sms-worker"
  [voice-worker]="klaxon-voice-worker"
  [audit]="klaxon-audit klaxon-audit-admin"
  [admin]="klaxon-admin klaxon-audit-admin"
  [klaxonctl]="klaxonctl"
)
declare -A BINARY_PATHS=(
  [klaxon-ingress]=services/ingress/klaxon-ingress
  [klaxon-sms-worker]=services/sms-worker/klaxon-sms-worker
  [klaxon-voice-worker]=services/voice-worker/klaxon-voice-worker
  [klaxon-audit]=services/audit/klaxon-audit
  [klaxon-audit-admin]=services/audit/klaxon-audit-admin
  [klaxon-admin]=tools/klaxon-admin/klaxon-admin
  [klaxonctl]=tools/klaxonctl/klaxonctl
)
readonly ALL_IMAGES=(ingress sms-worker voice-worker audit admin klaxonctl stunnel)

log() { printf 'images: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

exists() { buildah inspect --type image "$1" >/dev/null 2>&1; }
image_id() { buildah inspect --type image --format '{{.FromImageID}}' "$1"; }
image_label() {
  buildah inspect --type image --format "{{index .OCIv1.Config.Labels \"$2\"}}" "$1" 2>/dev/null || true
}
sha() { sha256sum | cut -c1-16; }

# buildah build with the flags every image shares.
build() {
  buildah build --isolation chroot --network host --pull=never --layers=false --quiet "$@" >/dev/null
}

# 1. debian:bookworm-slim, pulled or made from Debian's archive.
ensure_slim() {
  if exists "$SLIM"; then
    return
  fi
  if timeout 60 buildah pull --quiet "$SLIM" >/dev/null 2>&1; then
    log "pulled $SLIM"
    return
  fi
  log "no registry answers: writing $SLIM from $MIRROR with mmdebstrap"
  local scratch
  scratch="$(mktemp -d -t klaxon-slim.XXXXXX)"
  # The dpkg excludes are the official slim image's (debuerreotype's slimify): no manuals, info
  # pages, translations or documentation but the copyright files. The merged-usr hook gives the
  # /usr layout bookworm images have, without the usrmerge package and the perl it pulls in.
  if ! mmdebstrap --variant=apt --format=tar \
      --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
      --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/man/*' \
      --dpkgopt='path-exclude=/usr/share/groff/*' \
      --dpkgopt='path-exclude=/usr/share/info/*' \
      --dpkgopt='path-exclude=/usr/share/lintian/*' \
      --dpkgopt='path-exclude=/usr/share/linda/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' \
      --aptopt='APT::Install-Recommends "false"' \
      --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/*.log "$1"/var/log/apt/*' \
      bookworm "$scratch/rootfs.tar" \
      "deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main" \
      "deb $SECURITY_MIRROR bookworm-security main" >"$scratch/mmdebstrap.log" 2>&1; then
    tail -n 30 "$scratch/mmdebstrap.log" >&2
    rm -rf "$scratch"
    die "mmdebstrap could not write debian:bookworm-slim"
  fi
  local ctr
  ctr="$(buildah from --quiet scratch)"
  buildah add --quiet "$ctr" "$scratch/rootfs.tar" / >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd bash --label org.opencontainers.image.source=mmdebstrap "$ctr"
  buildah commit --quiet --rm "$ctr" "$SLIM" >/dev/null
  rm -rf "$scratch"
  log "imported $SLIM ($(image_size "$SLIM"))"
}

image_size() { buildah images --format '{{.Size}}' "$1" | head -1; }

# Copies each binary an image needs, stripped, into its build context.
stage_binaries() {
  local image="$1" binary source
  mkdir -p "$CONTEXTS/$image"
  for binary in ${IMAGE_BINARIES[$image]}; do
    source="$BUILD/${BINARY_PATHS[$binary]}"
    [[ -x "$source" ]] || die "$source is missing: run scripts/build.sh release first"
    strip --strip-unneeded -o "$CONTEXTS/$image/$binary.new" "$source"
    if cmp -s "$CONTEXTS/$image/$binary.new" "$CONTEXTS/$image/$binary"; then
      rm "$CONTEXTS/$image/$binary.new"
    else
      mv "$CONTEXTS/$image/$binary.new" "$CONTEXTS/$image/$binary"
    fi
  done
}

# The Debian package of each shared library the staged binaries link (ldd, then dpkg -S), one a
# line. A library no package holds, or a -dev package, stops the build: the image could not
# install it from Debian.
runtime_packages() {
  local libraries=() library candidates=() path package
  mapfile -t libraries < <(ldd "$CONTEXTS"/*/* | awk '/=> \// { print $3 }' | sort -u)
  # dpkg knows a library by the path its package installed; with merged /usr that may be the
  # /usr/lib twin of the /lib path ldd prints.
  for library in "${libraries[@]}"; do candidates+=("$library" "/usr$library"); done
  declare -A owner=()
  while IFS= read -r line; do
    package="${line%%: *}"
    owner[${line#*: }]="${package%%:*}"
  done < <(dpkg -S "${candidates[@]}" 2>/dev/null || true)
  for library in "${libraries[@]}"; do
    package="${owner[$library]:-${owner[/usr$library]:-}}"
    [[ -n "$package" ]] || die "no Debian package holds $library"
    [[ "$package" != *-dev ]] || die "$library comes from the development package $package"
    echo "$package"
  done | sort -u
}

# 2. klaxon/runtime-base:KEY; prints its name. Every Klaxon binary is staged first, whichever
# images were asked for, so the base (whose packages serve them all) does not depend on that.
ensure_runtime_base() {
  local packages key name image
  for image in "${!IMAGE_BINARIES[@]}"; do
    stage_binaries "$image"
  done
  packages="$(runtime_packages | tr '\n' ' ')"
  key="$({ cat "$IMAGES_DIR/runtime-base.Containerfile"; echo "$packages"; image_id "$SLIM"; } | sha)"
  name="localhost/klaxon/runtime-base:$key"
  if ! exists "$name"; then
    log "building klaxon/runtime-base with: $packages"
    build -f "$IMAGES_DIR/runtime-base.Containerfile" --build-arg "PACKAGES=$packages" \
      -t "$name" "$IMAGES_DIR"
  fi
  echo "$name"
}

# 3. One image, unless the one there has the same key.
build_image() {
  local image="$1" base="$2" revision="$3" context key name
  name="localhost/klaxon/$image:$TAG"
  if [[ "$image" == stunnel ]]; then
    context="$IMAGES_DIR"
    # Nothing of Klaxon is in it: its key leaves the revision out, so a commit does not rebuild it.
    key="$({ cat "$IMAGES_DIR/stunnel.Containerfile"; image_id "$SLIM"; } | sha)"
  else
    context="$CONTEXTS/$image"
    key="$({ cat "$IMAGES_DIR/$image.Containerfile"; (cd "$context" && sha256sum -- *)
      image_id "$base"; echo "$revision"; } | sha)"
  fi
  if [[ "$(image_label "$name" "$KEY_LABEL")" == "$key" ]]; then
    log "klaxon/$image:$TAG is up to date"
    return
  fi
  log "building klaxon/$image:$TAG"
  build -f "$IMAGES_DIR/$image.Containerfile" --build-arg "RUNTIME_BASE=$base" \
    --build-arg "REVISION=$revision" --label "$KEY_LABEL=$key" -t "$name" "$context"
}

print_sizes() {
  local image
  for image in "${ALL_IMAGES[@]}"; do
    printf '%-28s %s\n' "klaxon/$image:$TAG" "$(image_size "localhost/klaxon/$image:$TAG")"
  done
}

main() {
  if [[ "${1:-}" == --sizes ]]; then
    print_sizes
    return
  fi
  local images=("$@") image
  [[ ${#images[@]} -gt 0 ]] || images=("${ALL_IMAGES[@]}")
  for image in "${images[@]}"; do
    [[ -f "$IMAGES_DIR/$image.Containerfile" && "$image" != runtime-base ]] ||
      die "no image $image (one of: ${ALL_IMAGES[*]})"
  done
  command -v buildah >/dev/null || die "buildah is missing: run scripts/deps.sh"

  local revision
  revision="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
  ensure_slim
  local base=""
  for image in "${images[@]}"; do
    if [[ "$image" != stunnel && -z "$base" ]]; then
      base="$(ensure_runtime_base)"
    fi
    build_image "$image" "$base" "$revision"
  done
  # The images a rebuild replaced, now untagged.
  buildah rmi --prune >/dev/null 2>&1 || true
}

main "$@"
