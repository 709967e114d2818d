#!/usr/bin/env bash
# Builds Petera's Debian packages with dpkg-buildpackage: peterad (the
# server), petera (the client and the cryptsetup token plugin),
# petera-initramfs and petera-dracut (unlocking at boot) and petera-clevis
# (the Clevis pin). Installs the missing build dependencies first
# (apt-get build-dep) when run as root.
#
#   scripts/packages.sh [OUTDIR]         OUTDIR: build-deb/ by default
#   sudo apt install ./build-deb/peterad_*.deb          # a server
#   sudo apt install ./build-deb/petera_*.deb           # a client
#
# dpkg-buildpackage writes the packages beside the tree it builds, so the
# tree is exported (the files git tracks, and new ones it does not ignore)
# to OUTDIR/petera first: the packages land in OUTDIR, and nothing outside
# OUTDIR is written. The usual variables of Debian builds apply, e.g.
#   DEB_BUILD_PROFILES=nocheck DEB_BUILD_OPTIONS=nocheck scripts/packages.sh
# builds without the tests, and DEB_BUILD_OPTIONS=nocheck builds them
# without running them (scripts/test.sh runs them all afterwards).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$here/build-deb}")
src=$out/petera

build_deps() {
  if command -v dpkg-checkbuilddeps >/dev/null &&
     (cd "$here" && dpkg-checkbuilddeps 2>/dev/null); then
    return 0
  fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "packages: build dependencies missing; run: sudo apt-get build-dep $here/" >&2
    exit 1
  fi
  echo "packages: installing the build dependencies"
  local profiles=()
  [[ -z ${DEB_BUILD_PROFILES:-} ]] || profiles=(--build-profiles="${DEB_BUILD_PROFILES// /,}")
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get build-dep -y -qq --no-install-recommends "${profiles[@]}" "$here/" </dev/null
}

export_tree() {
  rm -rf "$src"
  mkdir -p "$src"
  if git -C "$here" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$here" && git ls-files -z --cached --others --exclude-standard) |
      while IFS= read -r -d '' f; do
        [[ -e $here/$f || -L $here/$f ]] && printf '%s\0' "$f"   # not deleted ones
      done |
      tar -C "$here" --null --no-recursion -T - -cf - | tar -C "$src" -xf -
  else
    tar -C "$here" --exclude=./.git --exclude='./build*' --exclude='./obj-*' -cf - . |
      tar -C "$src" -xf -
  fi
}

build_deps
mkdir -p "$out"
rm -f "$out"/*.deb "$out"/*.ddeb "$out"/*.changes "$out"/*.buildinfo
export_tree
(cd "$src" && dpkg-buildpackage -us -uc -b --jobs-try="$(nproc)")
echo "packages: in $out"
ls -1 "$out"/*.deb
