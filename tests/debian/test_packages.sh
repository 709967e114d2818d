#!/usr/bin/env bash
# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#
# Checks the Debian packages scripts/packages.sh built into DIR:
#  1. lintian reports no error and no warning (an override in
#     debian/*.lintian-overrides carries its reason);
#  2. one version: CMake's project(VERSION) is the changelog's upstream
#     version and the man pages'; the packages carry the changelog's;
#  3. each package ships exactly the files tests/debian/expected-files
#     lists, and depends on the package of every library its programs and
#     the token plugin load;
#  4. dpkg installs them into a throwaway root, where `petera --version`
#     and `peterad --help` run from the installed paths, the account and
#     the key directory exist as peterad needs them (`peterad --check`, run
#     as README.Debian says, accepts keys placed there), and no unit is
#     enabled or started; removing them leaves nothing but what purging
#     removes (configuration), and purging leaves nothing but the account,
#     which Debian keeps.
#
# The throwaway root is this machine's own root file system under an
# overlay whose writes go to a tmpfs, in a private mount namespace
# (unshare -m): `dpkg --root` installs into it and runs the maintainer
# scripts chrooted there. Every file the packages and their scripts create,
# change or delete shows in the overlay's upper layer, which is what the
# removal checks read, and it all vanishes with the namespace: nothing is
# installed on the machine itself. A root made by debootstrap would also
# show apt resolving the dependencies on a bare Debian 12, but it needs the
# Debian mirror and a minute or two on every run (debootstrap, then the
# dependencies); here it takes seconds, offline, and step 3 checks the
# library dependencies, which are the ones computed at build time.
# petera-dracut is installed with --force-depends: dracut conflicts with
# the initramfs-tools this machine needs for the boot tests.
#
# Usage (as root): tests/debian/test_packages.sh DIR
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# The packages of DIR, except the debug symbols.
packages() {
  local deb
  for deb in "$1"/*.deb; do
    [[ -e $deb && $deb != *-dbgsym_* ]] && echo "$deb"
  done
}
deb_of() { packages "$1" | grep "/$2_[^/]*\.deb$"; }

# ---------------------------------------------------------------- 4. install
# Run inside the private mount namespace: throwaway_root DIR WORK
throwaway_root() {
  local dir=$1 work=$2
  local cmake_version
  cmake_version=$(awk '/^project.petera VERSION / { print $3 }' "$dir/petera/CMakeLists.txt")
  mount -t tmpfs -o mode=0700 petera-packages "$work"
  mkdir "$work/upper" "$work/overlay-work" "$work/root"
  local root=$work/root upper=$work/upper
  mount -t overlay overlay -o "lowerdir=/,upperdir=$upper,workdir=$work/overlay-work" "$root"
  # No systemd runs in there (/run is empty), and policy-rc.d forbids
  # starting anything anyway; update-initramfs would build an image for
  # this machine's kernel on every petera-initramfs change.
  mount -t tmpfs tmpfs "$root/run"
  mount -t tmpfs tmpfs "$root/dev"
  local node
  for node in null zero full random urandom; do
    touch "$root/dev/$node"
    mount --bind "/dev/$node" "$root/dev/$node"
  done
  mount -t proc proc "$root/proc" 2>/dev/null || mount --rbind /proc "$root/proc"
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  echo update_initramfs=no >>"$root/etc/initramfs-tools/update-initramfs.conf"
  (cd "$upper" && find . -mindepth 1 | sort) >"$work/baseline"

  in_root() { chroot "$root" "$@"; }
  local debs=() pkg
  for pkg in peterad petera petera-initramfs petera-clevis; do debs+=("$(deb_of "$dir" "$pkg")"); done
  DEBIAN_FRONTEND=noninteractive dpkg --root="$root" -i "${debs[@]}" >"$work/dpkg.log" 2>&1 ||
    { cat "$work/dpkg.log"; fail "dpkg -i"; }
  DEBIAN_FRONTEND=noninteractive dpkg --root="$root" --force-depends -i \
    "$(deb_of "$dir" petera-dracut)" >>"$work/dpkg.log" 2>&1 ||
    { cat "$work/dpkg.log"; fail "dpkg -i petera-dracut"; }
  ok "dpkg -i into the throwaway root"

  local out
  out=$(in_root /usr/bin/petera --version)
  [[ $out == "petera $cmake_version" ]] || fail "petera --version: '$out'"
  in_root /usr/sbin/peterad --help >/dev/null || fail "peterad --help"
  out=$(in_root /usr/sbin/peterad --version)
  [[ $out == "peterad $cmake_version "* ]] || fail "peterad --version: '$out'"
  ok "installed: $(in_root /usr/bin/petera --version), peterad --help; $out"
  in_root /usr/libexec/petera/petera-ocsp-refresh --help | grep -q '^Usage: petera-ocsp-refresh' ||
    fail "petera-ocsp-refresh --help"
  grep -q '^ExecStart=/usr/libexec/petera/petera-ocsp-refresh ' "$root/lib/systemd/system/petera-ocsp.service" ||
    fail "petera-ocsp.service does not run the installed refresher"
  ok "the OCSP refresher and its units are in place"

  local account
  account=$(in_root getent passwd petera) || fail "no account petera"
  IFS=: read -r _ _ uid _ _ home shell <<<"$account"
  ((uid < 1000)) && [[ $home == /nonexistent && $shell == */nologin ]] ||
    fail "account petera: $account"
  for d in /etc/petera /etc/petera/decrypt.d; do
    out=$(in_root stat -c '%a %U %G' "$d") || fail "$d missing"
    [[ $out == "750 root petera" ]] || fail "$d: $out, not 750 root petera"
  done
  ok "account petera ($account), /etc/petera and decrypt.d 0750 root:petera"
  out=$(find "$root/etc/systemd" -name 'petera*' -printf '/%P\n')
  [[ -z $out ]] || fail "units enabled on installation: $out"
  ok "no unit enabled"
  # Nor started: dh_installsystemd --no-start leaves no start in postinst,
  # whose only deb-systemd-invoke is the try-restart of an upgrade.
  out=$(dpkg-deb --ctrl-tarfile "$(deb_of "$dir" peterad)" | tar -xOf - ./postinst |
          grep 'deb-systemd-invoke' | grep -v 'deb-systemd-invoke try-restart petera.service' || true)
  [[ -z $out ]] || fail "peterad's postinst starts units: $out"
  ok "no unit started (postinst)"

  # The keys, placed as README.Debian says, and checked as it says.
  bash "$dir/petera/certs-examples/make-pki.sh" "$work/pki" >/dev/null
  cat "$work/pki/s1/tls.pem" >"$root/etc/petera/tls.pem"
  cat "$work/pki/s1/encrypt-ec.pem" >"$root/etc/petera/encrypt.pem"
  cat "$work/pki/s1/decrypt.d/ec.pem" >"$root/etc/petera/decrypt.d/2026-01.pem"
  in_root chown root:petera /etc/petera/tls.pem /etc/petera/encrypt.pem /etc/petera/decrypt.d/2026-01.pem
  in_root chmod 0640 /etc/petera/tls.pem /etc/petera/decrypt.d/2026-01.pem
  in_root chmod 0644 /etc/petera/encrypt.pem
  in_root runuser -u petera -- peterad --check /etc/petera/tls.pem /etc/petera/encrypt.pem \
    /etc/petera/decrypt.d >"$work/check.log" 2>&1 ||
    { cat "$work/check.log"; fail "peterad --check as petera"; }
  ok "peterad --check as user petera accepts the keys in /etc/petera"
  rm "$root/etc/petera/tls.pem" "$root/etc/petera/encrypt.pem" "$root/etc/petera/decrypt.d/2026-01.pem"

  local conffiles
  conffiles=$(for pkg in peterad petera petera-initramfs petera-clevis petera-dracut; do
                dpkg-deb --ctrl-tarfile "$(deb_of "$dir" "$pkg")" |
                  tar -xOf - --wildcards './conffiles' 2>/dev/null || true
              done | sort)
  [[ $conffiles == */etc/default/peterad* ]] || fail "/etc/default/peterad is not a conffile"
  echo 'PETERAD_OPTIONS="--metrics 127.0.0.1:9570"' >>"$root/etc/default/peterad"
  # Installing again runs the maintainer scripts' upgrade branches.
  DEBIAN_FRONTEND=noninteractive dpkg --root="$root" -i "$(deb_of "$dir" peterad)" >>"$work/dpkg.log" 2>&1 ||
    { cat "$work/dpkg.log"; fail "dpkg -i peterad over itself"; }
  dpkg --root="$root" -r petera-dracut petera-clevis petera-initramfs petera peterad >>"$work/dpkg.log" 2>&1 ||
    { cat "$work/dpkg.log"; fail "dpkg -r"; }
  grep -q '^PETERAD_OPTIONS="--metrics' "$root/etc/default/peterad" ||
    fail "dpkg -r lost the operator's /etc/default/peterad"
  # What may stay until the purge: conffiles, the key directory, the
  # state of units deb-systemd-helper keeps.
  local kept=(-e /etc/petera -e /etc/petera/decrypt.d) conffile
  for conffile in $conffiles; do kept+=(-e "$conffile"); done
  leftovers "$root" "$upper" "$work/baseline" | grep -v -x -F "${kept[@]}" |
    grep -v '^/var/lib/systemd/deb-systemd-helper-' >"$work/left" || true
  [[ ! -s $work/left ]] || fail "left after dpkg -r: $(cat "$work/left")"
  ok "dpkg -r leaves only configuration${conffiles:+ (conffiles: $conffiles)}"

  # A key the operator left is never deleted, nor its directory.
  printf 'key\n' >"$root/etc/petera/decrypt.d/kept.pem"
  dpkg --root="$root" -P petera-dracut petera-clevis petera-initramfs petera peterad >>"$work/dpkg.log" 2>&1 ||
    { cat "$work/dpkg.log"; fail "dpkg -P"; }
  [[ -f $root/etc/petera/decrypt.d/kept.pem ]] || fail "dpkg -P deleted a key left in /etc/petera/decrypt.d"
  rm -r "$root/etc/petera"
  ok "dpkg -P keeps a key left in /etc/petera/decrypt.d"
  out=$(dpkg --root="$root" -l 'petera*' 2>/dev/null | grep -E '^[a-z][a-z] +petera' || true)
  [[ -z $out ]] || fail "still known to dpkg after purge: $out"
  leftovers "$root" "$upper" "$work/baseline" >"$work/left" || true
  [[ ! -s $work/left ]] || fail "left after dpkg -P: $(cat "$work/left")"
  local f added
  for f in passwd group shadow gshadow; do
    added=$(diff <(sort "/etc/$f") <(sort "$root/etc/$f") | sed -n 's/^> //p' | grep -v '^petera:' || true)
    [[ -z $added ]] || fail "/etc/$f gained more than the account petera: $added"
  done
  ok "dpkg -P leaves nothing but the account petera"
}

# The paths ROOT's upper layer holds beyond BASELINE, as /PATH, but for
# dpkg's own records and logs, man-db's cache, the account files (checked
# apart) and directories that were there before.
leftovers() {
  local root=$1 upper=$2 baseline=$3 rel
  (cd "$upper" && find . -mindepth 1 | sort) | comm -13 "$baseline" - |
    while IFS= read -r rel; do
      rel=${rel#.}
      case $rel in
        /var/lib/dpkg | /var/lib/dpkg/* | /var/log | /var/log/dpkg.log | /var/cache/man | /var/cache/man/* | \
          /etc/passwd | /etc/group | /etc/shadow | /etc/gshadow | /etc/passwd- | /etc/group- | \
          /etc/shadow- | /etc/gshadow- | /etc/.pwd.lock) continue ;;
      esac
      if [[ -d $upper$rel && ! -L $upper$rel && -d $rel ]]; then continue; fi   # a directory of before
      if [[ -c $upper$rel ]]; then echo "$rel (deleted)"; else echo "$rel"; fi
    done
}

if [[ ${1:-} == --throwaway-root ]]; then
  throwaway_root "$2" "$3"
  exit 0
fi

dir=$(realpath "${1:?usage: test_packages.sh DIR}")
[[ $(id -u) -eq 0 ]] || fail "needs root: mounts in a private namespace, dpkg --root"
# The throwaway root is this machine's own: what the packages create must
# not be here already, or the checks could not see them created.
installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' 'petera*' 2>/dev/null | awk '$1 ~ /^.i/ { print $2 }' || true)
[[ -z $installed ]] || fail "Petera's packages are installed on this machine ($(echo $installed)): remove them first"
! getent passwd petera >/dev/null || fail "this machine has an account petera: the check could not see the package create it"
[[ ! -e /etc/petera ]] || fail "this machine has /etc/petera: the check could not see the package create it"
src=$dir/petera
changes=$(ls "$dir"/petera_*.changes)
[[ $(wc -l <<<"$changes") -eq 1 ]] || fail "not one .changes file in $dir"

# ---------------------------------------------------------------- 1. lintian
lintian --fail-on error,warning "$changes" || fail "lintian"
ok "lintian: no errors, no warnings"

# ---------------------------------------------------------------- 2. version
cmake_version=$(awk '/^project.petera VERSION / { print $3 }' "$src/CMakeLists.txt")
deb_version=$(dpkg-parsechangelog -l "$src/debian/changelog" -SVersion)
[[ ${deb_version%-*} == "$cmake_version" ]] ||
  fail "debian/changelog has $deb_version, CMakeLists.txt $cmake_version"
for page in "$src"/docs/man/*.[1-8]; do
  th=$(sed -n 's/^\.TH .*"Petera \([^"]*\)".*/\1/p' "$page")
  [[ -z $th || $th == "$cmake_version" ]] || fail "${page#"$src"/}: Petera $th, not $cmake_version"
done
while IFS= read -r deb; do
  [[ $(dpkg-deb -f "$deb" Version) == "$deb_version" ]] || fail "$deb: not version $deb_version"
done < <(packages "$dir")
ok "version $cmake_version (package $deb_version) everywhere"

# ---------------------------------------------------------------- 3. contents
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
expected=$(sed -e '/^#/d' -e '/^$/d' -e "s/\${DEB_HOST_MULTIARCH}/$multiarch/" \
  "$here/tests/debian/expected-files")
names=$(awk '{ print $1 }' <<<"$expected" | sort -u)
built=$(packages "$dir" | sed 's|.*/||; s|_.*||' | sort)
[[ $names == "$built" ]] || fail "packages built: $(echo $built); expected: $(echo $names)"
work=$(mktemp -d /tmp/petera-packages.XXXXXX)
trap 'rm -rf "$work"' EXIT
for pkg in $names; do
  deb=$(deb_of "$dir" "$pkg")
  diff -u --label "expected $pkg" --label "$pkg" \
    <(awk -v p="$pkg" '$1 == p { print $2 }' <<<"$expected" | sort) \
    <(dpkg-deb --fsys-tarfile "$deb" | tar -t | sed -e 's|^\./|/|' -e '/\/$/d' | sort) ||
    fail "$pkg does not ship the files tests/debian/expected-files lists"

  # Every library an ELF file loads belongs to a package it depends on.
  mkdir "$work/$pkg"
  dpkg-deb -x "$deb" "$work/$pkg"
  depends=" $(dpkg-deb -f "$deb" Depends | tr ',|' '\n\n' | sed 's/(.*//; s/:.*//' | tr -d ' ' | tr '\n' ' ') "
  while IFS= read -r -d '' file; do
    readelf -h "$file" >/dev/null 2>&1 || continue
    for soname in $(readelf -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
      # "SONAME => PATH (address)", or "PATH (address)" for the dynamic loader
      path=$(ldd "$file" | awk -v so="$soname" '
        $1 == so && $2 == "=>" { print $3 }
        $2 ~ /^\(/ && $1 ~ ("/" so "$") { print $1 }')
      [[ $path == /* ]] || fail "${file#"$work/$pkg"}: ldd does not find $soname"
      owner=$(dpkg -S "$path" 2>/dev/null || dpkg -S "/usr$path" 2>/dev/null || dpkg -S "${path#/usr}") ||
        fail "${file#"$work/$pkg"}: no package holds $soname ($path)"
      owner=${owner%%:*}
      # the package itself, or a virtual package it provides (libspdlog1.10-fmt9)
      provided=$(dpkg-query -W -f='${Provides}' "$owner" | tr ',' '\n' | sed 's/(.*//; s/:.*//' | tr -d ' ')
      found=
      for name in "$owner" $provided; do
        [[ $depends == *" $name "* ]] && found=$name
      done
      [[ -n $found ]] ||
        fail "$pkg: ${file#"$work/$pkg"} loads $soname from $owner, which $pkg does not depend on"
    done
  done < <(find "$work/$pkg" -type f -print0)
done
ok "every package ships the expected files and depends on the libraries it loads"

# ---------------------------------------------------------------- 4. install
mkdir "$work/root"
unshare -m --propagation private "$BASH" "$0" --throwaway-root "$dir" "$work/root"
echo "debian packages: all checks passed"
