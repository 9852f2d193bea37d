#!/usr/bin/env bash
# Build and run the kernel micro-benchmark against the library that `dotnet build` (or CMake)
# produced in artifacts/native. Usage: scripts/bench-kernels/run.sh [threads...]   (default 1 2)
# AWQ_SIMD=scalar|avx2|avx512 caps the SIMD path; BENCH_ONLY=stream|w4|w4a8|f16|int8|attn runs one section;
# BENCH_M=1,4 picks the w4a8 section's batch sizes (default 1,4,16,64).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$root/artifacts/native"
if [ ! -f "$build/libawq_kernels.so" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" --parallel >/dev/null
fi
out="$root/artifacts/bench-kernels"
mkdir -p "$out"
cc -O2 -std=gnu11 -Wall -Wextra -I"$root/native/include" "$root/scripts/bench-kernels/bench_kernels.c" \
  -o "$out/bench_kernels" -L"$build" -lawq_kernels -Wl,-rpath,"$build" -lpthread
exec "$out/bench_kernels" "$@"
