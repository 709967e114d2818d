#!/bin/bash
# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#
# Checks systemd/petera.socket, systemd/petera.service and the OCSP refresher's
# petera-ocsp.service and petera-ocsp.timer:
#  - systemd-analyze verify accepts them (ExecStart is pointed at an existing
#    binary in a temporary copy, since peterad is not installed here);
#  - systemd-analyze security rates each service's exposure at 2.0 or less.
# Usage: systemd_units_test.sh SYSTEMD_DIR
set -euo pipefail

units=${1:?usage: systemd_units_test.sh SYSTEMD_DIR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cp "$units/petera.socket" "$units/petera-ocsp.timer" "$work/"
sed 's|^ExecStart=/usr/libexec/petera/petera-ocsp-refresh |ExecStart=/bin/true |' \
  "$units/petera-ocsp.service" > "$work/petera-ocsp.service"
grep -q '^ExecStart=/bin/true ' "$work/petera-ocsp.service" || {
  echo "FAIL: petera-ocsp.service does not start /usr/libexec/petera/petera-ocsp-refresh" >&2
  exit 1
}
sed 's|^ExecStart=/usr/sbin/peterad |ExecStart=/bin/true |' "$units/petera.service" \
  > "$work/petera.service"
grep -q '^ExecStart=/bin/true ' "$work/petera.service" || {
  echo "FAIL: ExecStart does not start /usr/sbin/peterad" >&2
  exit 1
}

# --man=no: the man page is not installed on the build machine.
if ! systemd-analyze verify --man=no "$work/petera.socket" "$work/petera.service" \
     "$work/petera-ocsp.service" "$work/petera-ocsp.timer"; then
  echo "FAIL: systemd-analyze verify refused the units" >&2
  exit 1
fi
echo "ok: systemd-analyze verify"

for service in petera.service petera-ocsp.service; do
  report=$(systemd-analyze security --offline=true "$work/$service" 2>&1)
  exposure=$(printf '%s\n' "$report" | sed -n "s/.*Overall exposure level for $service: \([0-9.]*\).*/\1/p")
  if [[ -z "$exposure" ]]; then
    printf '%s\n' "$report" >&2
    echo "FAIL: no exposure level in the report for $service" >&2
    exit 1
  fi
  if ! awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }'; then
    printf '%s\n' "$report" | grep -v '^✓' >&2
    echo "FAIL: $service: exposure $exposure > 2.0" >&2
    exit 1
  fi
  echo "ok: $service: exposure $exposure <= 2.0"
done

for setting in 'Type=notify' 'ExecReload=/bin/kill -HUP $MAINPID' 'LimitCORE=0' \
               'ProtectSystem=strict' 'PrivateDevices=yes' 'CapabilityBoundingSet=' \
               'SystemCallFilter=@system-service' 'MemoryDenyWriteExecute=yes' \
               'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX'; do
  grep -qxF "$setting" "$units/petera.service" || { echo "FAIL: missing $setting" >&2; exit 1; }
done
for setting in 'User=petera' 'StateDirectory=petera/ocsp' 'ProtectSystem=strict' \
               'CapabilityBoundingSet=' 'NoNewPrivileges=yes' 'Type=oneshot'; do
  grep -qxF "$setting" "$units/petera-ocsp.service" || {
    echo "FAIL: petera-ocsp.service: missing $setting" >&2; exit 1; }
done
grep -qx 'Persistent=true' "$units/petera-ocsp.timer" || { echo "FAIL: Persistent=true" >&2; exit 1; }
grep -qx 'ListenStream=5700' "$units/petera.socket" || { echo "FAIL: ListenStream=5700" >&2; exit 1; }
grep -qx 'Accept=no' "$units/petera.socket" || { echo "FAIL: Accept=no" >&2; exit 1; }
echo "ok: settings present"
