#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is
# missing, builds the Debian packages and, in the same build, the tests,
# checks the packages (tests/debian/test_packages.sh), runs every test
# (ctest) against that build, then builds again with AddressSanitizer +
# UndefinedBehaviorSanitizer and runs the tests again (all but a few that
# exercise no code of ours differently, listed below), runs the server's
# tests under ThreadSanitizer, then runs each libFuzzer target for a short
# bounded time. The sanitizer and fuzzing trees build one after the other,
# each beside the previous pass of tests, at the lowest priority.
#
#   scripts/test.sh               everything
#   PETERA_SKIP_SANITIZERS=1 scripts/test.sh    no ASan + UBSan pass
#   PETERA_SKIP_FUZZ=1 scripts/test.sh          no fuzzing pass
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

"$here/scripts/install-deps.sh"

jobs=$(nproc)
# Line tables only (-g1): stack traces and gdb keep file and line, and
# compiling takes a quarter less time than with full debug information.
release_flags=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG")
# The first build is the Debian packages' (scripts/packages.sh): one compile,
# with Debian's flags (-O2, hardening) plus -g1 and -Werror, makes what the
# packages ship and the tests, which run below against exactly that
# (DEB_BUILD_OPTIONS=nocheck: built there, not run there).
echo "== build: Debian packages and tests (-O2 -g1, -Werror)"
DEB_BUILD_OPTIONS="nocheck terse parallel=$jobs" DEB_CXXFLAGS_APPEND="-g1 -Werror" \
  "$here/scripts/packages.sh" "$here/build-deb"
build=$here/build-deb/petera/obj-$(dpkg-architecture -qDEB_HOST_GNU_TYPE)
echo "== build: benchmarks (not packaged), in the same tree"
cmake -S "$here/build-deb/petera" -B "$build" -DPETERA_BENCH=ON >/dev/null
cmake --build "$build" -j"$jobs"
# From here on each pass's tests (the package checks first) run while the
# next pass's tree builds beside them, at the lowest priority (nice 19): the
# tests spend much of their time waiting (on servers, timeouts, a VM's
# emulated CPU on one core), and the build takes only the CPU they leave.
# Builds still run one at a time; a build's output goes to its log, shown
# when it fails.
logs=$(mktemp -d /tmp/petera-test-logs.XXXXXX)
background=
cleanup() {
  if [[ -n $background ]]; then kill -- "-$background" 2>/dev/null || kill "$background" 2>/dev/null || true; fi
  rm -rf "$logs"
}
trap cleanup EXIT
# build_beside NAME COMMAND...: starts the build in its own process group.
build_beside() {
  local name=$1
  shift
  echo "== build beside the tests: $name"
  set -m   # its own process group, which cleanup can kill whole
  ( renice -n 19 -p "$BASHPID" >/dev/null && "$@" ) >"$logs/$name.log" 2>&1 </dev/null &
  background=$!
  set +m
  background_name=$name
}
# wait_build: waits for the build started beside the tests; fails with its log.
wait_build() {
  [[ -n $background ]] || return 0
  local status=0
  wait "$background" || status=$?
  background=
  if ((status != 0)); then
    tail -n 60 "$logs/$background_name.log"
    echo "== build $background_name failed (exit $status)" >&2
    exit "$status"
  fi
  echo "== build $background_name done: $(tail -n 1 "$logs/$background_name.log")"
}

sanitizers=1
[[ "${PETERA_SKIP_SANITIZERS:-0}" != 1 ]] || sanitizers=0
fuzz=1
[[ "${PETERA_SKIP_FUZZ:-0}" != 1 ]] || fuzz=0

build_asan() {
  "$here/scripts/build.sh" build-asan -DCMAKE_BUILD_TYPE=Debug -DPETERA_SANITIZE=ON -DPETERA_BENCH=OFF \
    -DCMAKE_CXX_FLAGS_DEBUG="-g1"
}
build_tsan() {
  cmake -S "$here" -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPETERA_TSAN=ON \
    -DPETERA_BENCH=OFF "${release_flags[@]}" >/dev/null
  cmake --build build-tsan -j"$jobs" --target peterad petera peterad_unit_test recover_probe
}
build_fuzz() { "$here/scripts/fuzz.sh" --build-only; }

# The builds to start beside the passes of tests, in order.
next_builds=()
((sanitizers)) && next_builds+=(asan tsan)
((fuzz)) && next_builds+=(fuzz)
start_next_build() {
  if ((${#next_builds[@]})); then
    local name=${next_builds[0]}
    next_builds=("${next_builds[@]:1}")
    build_beside "$name" "build_$name"
  fi
}

start_next_build
echo "== Debian packages: lintian, contents, install, remove, purge"
"$here/tests/debian/test_packages.sh" "$here/build-deb"
echo "== tests"
(cd "$build" && ctest --output-on-failure -j"$jobs" --timeout 900)
wait_build

if ((sanitizers)); then
  start_next_build
  echo "== tests under ASan + UBSan"
  # Left out here, run once above: the VM boots (shell integration), the
  # demo PKI's own checks (openssl alone), the jwcrypto round trips
  # (interoperability; the envelope parser is fuzzed under ASan), the
  # HAProxy rolling restart (timing; the drain is unit-tested here) and the
  # LUKS commands killed by gdb at every header update (what they check is
  # the header left behind; the same commands run whole under ASan in the
  # other luks.* tests).
  (cd build-asan &&
   ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -j"$jobs" --timeout 1800 \
     -E '^(boot\.|pki\.|interop\.jwcrypto$|server\.e2e\.scaleout$|luks\.Interrupted$)')
  wait_build

  start_next_build
  echo "== server tests under ThreadSanitizer"
  (cd build-tsan &&
   TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
   ctest --output-on-failure -j"$jobs" --timeout 1800 -R '^server\.')
  wait_build
fi

if ((fuzz)); then
  wait_build   # the fuzz build, beside the last pass of tests
  echo "== fuzzing (each target ${PETERA_FUZZ_SECONDS:-15}s)"
  "$here/scripts/fuzz.sh" --no-build "${PETERA_FUZZ_SECONDS:-15}"
fi
echo "== all tests passed"
