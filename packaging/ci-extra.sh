#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The reliability stages of CI (docs/RELIABILITY.md), each in its own build directory:
#
#   packaging/ci-extra.sh asan   # whole test suite under ASan + UBSan, zero reports
#   packaging/ci-extra.sh fuzz   # clang + libFuzzer: 4 targets × BASIN_FUZZ_SECONDS (60)
#   packaging/ci-extra.sh tsan   # the GUI's background jobs under ThreadSanitizer
#   packaging/ci-extra.sh asan fuzz   # several, in the order given (the README's test
#                                     # command runs these two after the plain suite)
#   packaging/ci-extra.sh all    # asan, fuzz, tsan
#
# Prints the build and test wall time of every stage with the load average, so timings
# taken on a shared machine can be judged. Needs clang + libclang-rt-14-dev for `fuzz`
# (packaging/install-deps.sh --fuzz). Exits non-zero on the first failing stage.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=${BASIN_JOBS:-2}
supp=$root/tests/reliability
phase_start=0

load() { cut -d' ' -f1-3 /proc/loadavg; }

# Marks the end of a phase ("build", "tests") of the current stage.
phase() {
  local now
  now=$(date +%s)
  echo "=== ci-extra: $stage $1 took $((now - phase_start)) s (load $(load))"
  phase_start=$now
}

stage_fuzz() {
  # Debug: assertions stay on while fuzzing; tests/fuzz/CMakeLists.txt sets the -O1 and
  # sanitizer flags itself, line tables are all a stack trace needs.
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG=-gline-tables-only \
    -DBASIN_FUZZ=ON -DBASIN_BUILD_BENCH=OFF \
    -DBASIN_FUZZ_SECONDS="${BASIN_FUZZ_SECONDS:-60}" >/dev/null
  # Only the fuzz targets: they compile the parsers, not basin_core / ui / app / tests.
  cmake --build build-fuzz --target basin_fuzz_all -j"$jobs"
  phase build
  # The corpus fixture runs first; two fuzzers at a time on two cores.
  ctest --test-dir build-fuzz -L fuzz -j"$jobs" --output-on-failure
  phase tests
  # Passing tests' output is only in LastTest.log: show the execution counts from there.
  echo "fuzz executions per target:"
  awk '/^[0-9]+\/[0-9]+ Testing: / {name = $3}
       /stat::number_of_executed_units/ {print "  " name ": " $2}
       /stat::new_units_added/ {print "  " name ": new units " $2}' \
    build-fuzz/Testing/Temporary/LastTest.log
}

stage_asan() {
  # -O1 -g1: fast enough to compile and run on two cores; ASan needs no more.
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
    -DBASIN_SANITIZE=ON -DBASIN_BUILD_BENCH=OFF >/dev/null
  cmake --build build-asan -j"$jobs"
  phase build
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0 \
  LSAN_OPTIONS=suppressions=$supp/lsan.supp:print_suppressions=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -LE fuzz -j"$jobs" --output-on-failure
  phase tests
}

stage_tsan() {
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
    -DBASIN_TSAN=ON -DBASIN_BUILD_BENCH=OFF >/dev/null
  # The job runner's own tests, and the workbench with sliders moving while an analysis,
  # an export and the preview run (tests/ui/tst_concurrency.cpp).
  local tests=(tst_jobrunner tst_concurrency)
  cmake --build build-tsan --target "${tests[@]}" -j"$jobs"
  phase build
  local pattern
  pattern="^($(IFS='|'; echo "${tests[*]}"))\$"
  # Qt, GLib and libgomp are not built with TSan: ignore what their code does through
  # interceptors (ignore_noninstrumented_modules), and run OpenMP single-threaded since
  # TSan cannot see libgomp's barriers. The threads checked are the JobRunner's; OpenMP
  # inside a tensor is covered by the thread-count determinism tests.
  OMP_NUM_THREADS=1 \
  TSAN_OPTIONS="suppressions=$supp/tsan.supp:halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1" \
    ctest --test-dir build-tsan -R "$pattern" --output-on-failure
  phase tests
}

run() {
  local start end
  stage=$1
  start=$(date +%s)
  phase_start=$start
  echo "=== ci-extra: $stage (load $(load))"
  "stage_$stage"
  end=$(date +%s)
  echo "=== ci-extra: $stage took $((end - start)) s"
}

[ $# -gt 0 ] || set -- all
for arg in "$@"; do
  case "$arg" in
    fuzz | asan | tsan) ;;
    all) ;;
    *) echo "usage: $0 [asan|fuzz|tsan|all]..." >&2; exit 2 ;;
  esac
done
for arg in "$@"; do
  if [ "$arg" = all ]; then
    run asan; run fuzz; run tsan
  else
    run "$arg"
  fi
done
