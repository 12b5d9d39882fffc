#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The reliability stages of CI (docs/RELIABILITY.md), each in its own build directory:
#
#   packaging/ci-extra.sh fuzz   # clang + libFuzzer: 4 targets × BASIN_FUZZ_SECONDS (60)
#   packaging/ci-extra.sh asan   # whole test suite under ASan + UBSan, zero reports
#   packaging/ci-extra.sh tsan   # the GUI's background-job tests under ThreadSanitizer
#   packaging/ci-extra.sh all    # the three, in that order
#
# Prints the wall time of every stage. Needs clang + libclang-rt-14-dev for `fuzz`
# (install-deps.sh installs them with BASIN_WITH_FUZZ=1). Exits non-zero on the first
# failing stage.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=${BASIN_JOBS:-2}
supp=$root/tests/reliability

stage_fuzz() {
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DBASIN_FUZZ=ON -DBASIN_BUILD_BENCH=OFF \
    -DBASIN_FUZZ_SECONDS="${BASIN_FUZZ_SECONDS:-60}" >/dev/null
  cmake --build build-fuzz --target basin_fuzz_all -j"$jobs"
  # The corpus fixture runs first; two fuzzers at a time on two cores.
  ctest --test-dir build-fuzz -L fuzz -j"$jobs" --output-on-failure
  # Passing tests' output is only in LastTest.log: show the execution counts from there.
  echo "fuzz executions per target:"
  awk '/^[0-9]+\/[0-9]+ Testing: / {name = $3}
       /stat::number_of_executed_units/ {print "  " name ": " $2}
       /stat::new_units_added/ {print "  " name ": new units " $2}' \
    build-fuzz/Testing/Temporary/LastTest.log
}

stage_asan() {
  # -O1: fast enough to compile and run on two cores; ASan needs no more.
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
    -DBASIN_SANITIZE=ON -DBASIN_BUILD_BENCH=OFF >/dev/null
  cmake --build build-asan -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0 \
  LSAN_OPTIONS=suppressions=$supp/lsan.supp:print_suppressions=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -LE fuzz -j"$jobs" --output-on-failure
}

stage_tsan() {
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
    -DBASIN_TSAN=ON -DBASIN_BUILD_BENCH=OFF >/dev/null
  # TODO(issue 10): a test moving sliders while analysis and export run is not written yet;
  # until then the job runner's own tests are what runs under TSan.
  local tests=(tst_jobrunner)
  local built=()
  for t in "${tests[@]}"; do
    if cmake --build build-tsan --target "$t" -j"$jobs"; then built+=("$t"); fi
  done
  [ ${#built[@]} -gt 0 ] || { echo "tsan: nothing built"; return 1; }
  local pattern
  pattern="^($(IFS='|'; echo "${built[*]}"))\$"
  TSAN_OPTIONS="suppressions=$supp/tsan.supp:halt_on_error=1:second_deadlock_stack=1" \
    ctest --test-dir build-tsan -R "$pattern" --output-on-failure
}

run() {
  local name=$1 start end
  start=$(date +%s)
  echo "=== ci-extra: $name"
  "stage_$name"
  end=$(date +%s)
  echo "=== ci-extra: $name took $((end - start)) s"
}

case "${1:-all}" in
  fuzz | asan | tsan) run "$1" ;;
  all) run fuzz; run asan; run tsan ;;
  *) echo "usage: $0 [fuzz|asan|tsan|all]" >&2; exit 2 ;;
esac
