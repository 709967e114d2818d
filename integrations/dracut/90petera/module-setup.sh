#!/bin/bash
# Copyright 2026 The Petera Authors. Licensed under the Apache License 2.0.
#
# dracut module "petera": unlocks Petera-bound LUKS2 volumes at boot with
# systemd in the initramfs. systemd-cryptsetup asks libcryptsetup, which
# loads Petera's token plugin; the plugin recovers the passphrase from the
# servers, and when none answers systemd-cryptsetup asks for a passphrase.
# This module adds petera, the plugin and the anchor, CRL and client
# certificate files the volumes' tokens name, orders systemd-cryptsetup
# after the network and sets rd.neednet=1.

check() {
    require_binaries cryptsetup || return 1
    return 255  # only when asked for (add_dracutmodules+=" petera ")
}

depends() {
    echo crypt systemd network
}

cmdline() {
    echo "rd.neednet=1"
}

# The anchor, CRL and client certificate and key paths of every petera
# token of volume $1.
petera_token_files() {
    local id json member anchor crls name value
    for ((id = 0; id < 32; id++)); do
        json=$(cryptsetup token export --token-id "$id" "$1" 2>/dev/null) || continue
        [[ $json == *'"type":"petera"'* ]] || continue
        member=$(sed -n 's/.*"petera":{\([^{}]*\)}.*/\1/p' <<<"$json")
        anchor=$(sed -n 's/.*"anchor":"\([^"\\]*\)".*/\1/p' <<<"$member")
        if [[ -z $anchor ]]; then
            dwarn "petera: $1: token $id: cannot read its anchor path; list it in PETERA_FILES"
            continue
        fi
        echo "$anchor"
        crls=$(sed -n 's/.*"crl":\[\([^]]*\)\].*/\1/p' <<<"$member")
        tr ',' '\n' <<<"$crls" | sed -n 's/^"\(.*\)"$/\1/p'
        for name in cert key; do
            value=$(sed -n 's/.*"'"$name"'":"\([^"\\]*\)".*/\1/p' <<<"$member")
            if [[ $value == /* ]]; then echo "$value"; fi
        done
    done
}

install() {
    local PETERA_DEVICES="" PETERA_FILES="" PETERA_BIN="" PETERA_PLUGIN=""
    local conf=${PETERA_INITRAMFS_CONF:-/etc/petera/initramfs.conf}
    # shellcheck disable=SC1090
    [[ -r $conf ]] && . "$conf"
    local petera=${PETERA_BIN:-$(command -v petera)}
    [[ -x $petera ]] || { derror "petera: petera not found (PETERA_BIN)"; return 1; }
    inst_binary "$petera" /usr/bin/petera

    local plugin_dir=/usr/lib/x86_64-linux-gnu/cryptsetup plugin
    plugin=${PETERA_PLUGIN:-$plugin_dir/libcryptsetup-token-petera.so}
    [[ -e $plugin ]] || { derror "petera: $plugin not found (PETERA_PLUGIN)"; return 1; }
    inst_library "$plugin" "$plugin_dir/libcryptsetup-token-petera.so"

    local dev file
    for dev in $PETERA_DEVICES; do
        while IFS= read -r file; do
            [[ -n $file ]] && inst_simple "$file"
        done < <(petera_token_files "$dev")
    done
    for file in $PETERA_FILES; do
        inst_simple "$file"
    done

    # systemd-cryptsetup tries the tokens first: the network must be up.
    inst_simple "$moddir/petera-network.conf" \
        "$systemdsystemunitdir/systemd-cryptsetup@.service.d/petera-network.conf"
    echo "rd.neednet=1" >"${initdir}/etc/cmdline.d/90petera.conf"
}
