#!/usr/bin/env bash
# Every GPU check in one run, on a machine with an NVIDIA GPU, nvcc and CMake (run
# scripts/device-pack.sh where the .NET SDK is, first, and carry .device/):
#   1. the native library with its CUDA plugin, built there; the ctest suite, test_device comparing
#      every kernel on the GPU with the CPU kernel (relative L2 ≤ 2e-5);
#   2. awq eval on stories260K with --device "$dev" against the CPU: FP32 (KLD between the two ≤ 1e-6),
#      and AWQ g32 quantized on the GPU and on the CPU;
#   3. awq bench --device "$dev" on the TinyLlama-shaped synthetic model, all 22 layers, RTN g128:
#      decode tokens/s and its share of the card's peak memory bandwidth.
# Results are printed and written to $OUT (or /tmp/device-out). Each step has its own time limit.
# Rehearsal without a GPU: AWQ_CHECK_DEVICE=cpu AWQ_CHECK_LAYERS=1 runs the same steps on the CPU.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/device-out}
mkdir -p "$out"
step() { echo; echo "== $* ($(date +%T))"; }
threads=$(nproc)
dev=${AWQ_CHECK_DEVICE:-cuda}
layers=${AWQ_CHECK_LAYERS:-22}

step "GPU"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.memory --format=csv | tee "$out/gpu.txt" || echo "no nvidia-smi"
nvcc --version | tail -1 || echo "no nvcc"

step "native build with the CUDA plugin"
b=/tmp/awq-build
if timeout 300 cmake -S . -B "$b" -DCMAKE_BUILD_TYPE=Release -DAWQ_CUDA=ON -DAWQ_WERROR=OFF >"$out/cmake.log" 2>&1 &&
   timeout 300 cmake --build "$b" -j"$threads" >"$out/build.log" 2>&1; then
  (cd "$b" && timeout 300 ctest --output-on-failure --timeout 240) 2>&1 | tail -25
  AWQ_CUDA_PLUGIN="$b/libawq_kernels_cuda.so" timeout 240 "$b/native/test_device" 2>&1 | tee "$out/test_device.txt"
else
  tail -40 "$out/cmake.log" "$out/build.log"
fi

if [ ! -f .device/awq-device.tar.xz ]; then
  echo "no .device/awq-device.tar.xz (scripts/device-pack.sh): the managed checks are skipped"
  exit 0
fi
step "managed checks"
mkdir -p /tmp/awq && tar -xJf .device/awq-device.tar.xz -C /tmp/awq
A=/tmp/awq/awq
S=.device/shared
stories=(--tokenizer "$S/tok512.bin")
"$A" info | tee "$out/info.txt"

step "eval FP32: $dev against the CPU reference"
timeout 180 "$A" eval "$S/stories260K.bin" "${stories[@]}" --data "$S/tinystories_eval.txt" --ref "$S/stories260K.bin" --chunks 40 \
  --device "$dev" --threads "$threads" --json | tee "$out/eval-fp32-$dev.json"

step "AWQ g32 on the GPU and on the CPU"
for d in "$dev" cpu; do
  /usr/bin/time -f "quantize on $d: %e s wall" timeout 240 "$A" quantize "$S/stories260K.bin" "${stories[@]}" --calib "$S/tinystories_calib.txt" -g 32 \
    --device "$d" --threads "$threads" -o "/tmp/s-awq-$d" --force --json > "$out/quantize-$d.json" || echo "quantize on $d failed"
done
for q in "$dev" cpu; do
  step "eval AWQ (quantized on $q) on $dev against FP32 on the CPU"
  timeout 180 "$A" eval "/tmp/s-awq-$q" --data "$S/tinystories_eval.txt" --ref "$S/stories260K.bin" --ref-tokenizer "$S/tok512.bin" --chunks 40 \
    --device "$dev" --threads "$threads" --json | tee "$out/eval-awq-$q-on-$dev.json"
done
step "eval AWQ (quantized on the CPU): $dev against the same model on the CPU"
timeout 180 "$A" eval /tmp/s-awq-cpu --data "$S/tinystories_eval.txt" --ref /tmp/s-awq-cpu --chunks 40 --device "$dev" --threads "$threads" --json \
  | tee "$out/eval-awq-$dev-vs-cpu.json"

step "bench: TinyLlama shapes, 22 layers, RTN g128, on $dev"
timeout 240 "$A" synth --preset tinyllama-1.1b --layers "$layers" --tokenizer "$S/tokenizer.model" --out /tmp/tl22 --force >/dev/null &&
  timeout 240 "$A" quantize /tmp/tl22 --method rtn -g 128 -o /tmp/tl22-rtn --force --quiet --threads "$threads" &&
  timeout 300 "$A" bench /tmp/tl22-rtn --device "$dev" --threads "$threads" --prompt 512 --gen 128 --runs 3 2>&1 | tee "$out/bench-$dev.txt"
step "done"
