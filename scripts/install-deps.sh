#!/usr/bin/env bash
# Installs the Debian 12 packages Petera needs to build, test, package, run
# the demo and run the benchmarks. Installs only what is missing; safe to run
# again.
#
#   scripts/install-deps.sh            build, tests, demo, benchmarks, Clevis pin
#   scripts/install-deps.sh --tang     also Tang, for side-by-side benchmarks
set -euo pipefail

packages=(
  # build
  g++ cmake make pkg-config
  libssl-dev libsystemd-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libboost-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcryptsetup-dev
  # fuzzing and sanitizers
  clang libclang-rt-14-dev
  # tests and demo
  openssl curl systemd cryptsetup-bin util-linux gdb binutils python3 python3-jwcrypto python3-cryptography faketime procps testssl.sh
  # the Clevis pin and its tests (pwmake and jq are what 'clevis luks' runs)
  clevis clevis-luks jose libpwquality-tools jq
  # Clevis-bound root volumes at boot (tests/boot: boot.initramfs-tools.clevis)
  clevis-initramfs
  # client keys in a TPM 2.0 (OpenSSL's tpm2 provider); a software TPM and
  # its resource manager on a private D-Bus for tests/client/tpm_test.sh
  tpm2-openssl swtpm swtpm-tools tpm2-tools tpm2-abrmd libtss2-tcti-tabrmd0 dbus
  # a real TCP load balancer in front of peterad (PROXY protocol tests)
  haproxy
  # boot tests (tests/boot): a Debian kernel and the real mkinitramfs, booted
  # with QEMU. Installing a kernel and initramfs-tools writes /boot, which a
  # container or a machine booted by other means does not read.
  linux-image-amd64 initramfs-tools cryptsetup-initramfs busybox-static
  qemu-system-x86 python3-pexpect dracut-core
  # benchmarks
  wrk hyperfine gnuplot-nox
  # the Debian packages (scripts/packages.sh, tests/debian/test_packages.sh);
  # debian/control's other build dependencies are listed above
  dpkg-dev debhelper lintian
)
if [[ "${1:-}" == "--tang" ]]; then
  packages+=(tang)
elif [[ $# -gt 0 ]]; then
  echo "usage: $0 [--tang]" >&2
  exit 2
fi

# dracut's network modules are in dracut-network, which needs the dracut
# package, which conflicts with initramfs-tools: the boot tests take them
# from the package unpacked here, never installed.
dracut_network=/var/cache/petera/dracut-network
get_dracut_network() {
  [[ -d $dracut_network/usr/lib/dracut/modules.d ]] && return 0
  echo "install-deps: unpacking dracut-network into $dracut_network"
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -q dracut-network >/dev/null 2>&1) || { rm -rf "$tmp"; return 1; }
  mkdir -p "$dracut_network"
  dpkg -x "$tmp"/dracut-network_*.deb "$dracut_network"
  rm -rf "$tmp"
}

# Prometheus (its promtool checks the metrics and the alert rules; a real
# prometheus scrapes a test peterad) is unpacked the same way, not
# installed: the package would start a server on port 9090 and pull in a web
# UI's JavaScript. Its binaries are self-contained.
prometheus_dir=/var/cache/petera/prometheus
get_prometheus() {
  [[ -x $prometheus_dir/usr/bin/promtool && -x $prometheus_dir/usr/bin/prometheus ]] && return 0
  echo "install-deps: unpacking prometheus into $prometheus_dir"
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -q prometheus >/dev/null 2>&1) || { rm -rf "$tmp"; return 1; }
  mkdir -p "$prometheus_dir"
  dpkg -x "$tmp"/prometheus_*.deb "$prometheus_dir"
  rm -rf "$tmp"
}

unpack_extras() {
  get_dracut_network
  get_prometheus
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  if [[ $(id -u) -eq 0 ]]; then unpack_extras; fi
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: not root; run: sudo $0 $*" >&2
  echo "  (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
unpack_extras
