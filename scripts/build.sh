#!/usr/bin/env bash
# Configures and builds one build tree.
#   scripts/build.sh DIR [cmake options...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:?usage: scripts/build.sh DIR [cmake options...]}
shift
cmake -S "$here" -B "$dir" -DPETERA_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
