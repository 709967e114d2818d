#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each one for a bounded
# time on its committed seed corpus (fuzz/corpus/TARGET), one per core at a
# time. New inputs go to a scratch directory, never into the committed
# corpus.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      (default 15 s, all)
#   scripts/fuzz.sh --build-only                         build, run nothing
#   scripts/fuzz.sh --no-build [SECONDS] [TARGET...]     run what is built
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build="$here/build-fuzz"
mode=all
case ${1:-} in
  --build-only) mode=build; shift ;;
  --no-build) mode=run; shift ;;
esac
seconds=${1:-15}
shift || true
if [[ $mode != run ]]; then
  CC=clang CXX=clang++ cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -gline-tables-only -DNDEBUG" \
    -DPETERA_FUZZ=ON -DPETERA_TESTS=OFF -DPETERA_BENCH=OFF >/dev/null
  cmake --build "$build" -j"$(nproc)" --target fuzz_all
fi
[[ $mode != build ]] || exit 0

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  mapfile -t targets < <(cd "$build/fuzz" && ls fuzz_* | grep -v '\.' || true)
fi
scratch=$(mktemp -d /tmp/petera-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
bash "$here/certs-examples/make-pki.sh" "$scratch/pki" >/dev/null
export PETERA_FUZZ_PKI="$scratch/pki"
# fuzz_one TARGET: runs it; its report goes to $scratch/TARGET.out.
fuzz_one() {
  local t=$1 seeds="$here/fuzz/corpus/$1" a
  mkdir -p "$scratch/$t"
  [[ -d "$seeds" ]] || seeds=""
  {
    echo "== $t for ${seconds}s"
    if ! ASAN_OPTIONS=detect_leaks=1 "$build/fuzz/$t" -max_total_time="$seconds" \
         -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
         -artifact_prefix="$scratch/$t-" "$scratch/$t" $seeds 2>"$scratch/$t.log"; then
      echo "FAIL $t: see the report below"; tail -n 40 "$scratch/$t.log"
      for a in "$scratch/$t"-*; do [[ -e "$a" ]] && cp "$a" "$here/" && echo "reproducer: $here/$(basename "$a")"; done
      return 1
    fi
    grep -E "stat::number_of_executed_units" "$scratch/$t.log" | sed "s/^/$t: /"
  } >"$scratch/$t.out" 2>&1
}
# One target per core at a time (each fuzzer is one process); the reports
# are printed in order once all have run.
status=0
running=0
for t in "${targets[@]}"; do
  if ((running >= $(nproc))); then
    wait -n || true
    running=$((running - 1))
  fi
  { fuzz_one "$t" || touch "$scratch/$t.failed"; } &
  running=$((running + 1))
done
wait
for t in "${targets[@]}"; do
  cat "$scratch/$t.out"
  [[ ! -e "$scratch/$t.failed" ]] || status=1
done
exit $status
