#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is
# missing, builds the Debian packages and, in the same build, the tests,
# checks the packages (tests/debian/test_packages.sh), runs every test
# (ctest) against that build, then builds again with AddressSanitizer +
# UndefinedBehaviorSanitizer and runs the tests again (all but a few that
# exercise no code of ours differently, listed below), runs the server's
# tests under ThreadSanitizer, then runs each libFuzzer target for a short
# bounded time.
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
echo "== Debian packages: lintian, contents, install, remove, purge"
"$here/tests/debian/test_packages.sh" "$here/build-deb"
echo "== tests"
(cd "$build" && ctest --output-on-failure -j"$jobs" --timeout 900)

if [[ "${PETERA_SKIP_SANITIZERS:-0}" != 1 ]]; then
  echo "== build (ASan + UBSan)"
  "$here/scripts/build.sh" build-asan -DCMAKE_BUILD_TYPE=Debug -DPETERA_SANITIZE=ON -DPETERA_BENCH=OFF \
    -DCMAKE_CXX_FLAGS_DEBUG="-g1"
  echo "== tests under ASan + UBSan"
  # Left out here, run once above: the VM boots (shell integration), the
  # demo PKI's own checks (openssl alone), the jwcrypto round trips
  # (interoperability; the envelope parser is fuzzed under ASan) and the
  # HAProxy rolling restart (timing; the drain is unit-tested here).
  (cd build-asan &&
   ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -j"$jobs" --timeout 1800 \
     -E '^(boot\.|pki\.|interop\.jwcrypto$|server\.e2e\.scaleout$)')
fi

if [[ "${PETERA_SKIP_SANITIZERS:-0}" != 1 ]]; then
  echo "== build (ThreadSanitizer: the multi-threaded server)"
  cmake -S "$here" -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPETERA_TSAN=ON \
    -DPETERA_BENCH=OFF "${release_flags[@]}" >/dev/null
  cmake --build build-tsan -j"$jobs" --target peterad petera peterad_unit_test recover_probe
  echo "== server tests under ThreadSanitizer"
  (cd build-tsan &&
   TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
   ctest --output-on-failure -j"$jobs" --timeout 1800 -R '^server\.')
fi

if [[ "${PETERA_SKIP_FUZZ:-0}" != 1 ]]; then
  echo "== fuzzing (each target ${PETERA_FUZZ_SECONDS:-15}s)"
  "$here/scripts/fuzz.sh" "${PETERA_FUZZ_SECONDS:-15}"
fi
echo "== all tests passed"
