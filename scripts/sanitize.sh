#!/usr/bin/env bash
# The native kernels and their ctest suite under AddressSanitizer + UndefinedBehaviorSanitizer, in a
# build folder of their own (artifacts/native-asan) so the Release library `dotnet build` makes is
# untouched. Any report aborts the test that triggered it (-fno-sanitize-recover=all), so ctest fails.
# CPU kernels only (AWQ_CUDA=OFF): the sanitizers instrument host code.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${AWQ_ASAN_BUILD:-artifacts/native-asan}"
flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAWQ_CUDA=OFF \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# test_convert's exhaustive 2^32-pattern sweep (run in full by scripts/test.sh) takes every 16th chunk here.
export AWQ_TEST_SWEEP_STRIDE="${AWQ_TEST_SWEEP_STRIDE:-16}"
start=$(date +%s)
ctest --test-dir "$build" --output-on-failure --timeout 600
echo "sanitize: ctest passed under ASan+UBSan in $(( $(date +%s) - start )) s"
