#!/usr/bin/env bash
# Prepares .device/ for scripts/device-check.sh on a GPU machine that has no .NET SDK and cannot
# reach ../shared: a self-contained `awq` (the CUDA plugin built here beside it; llama.cpp's and the
# plot library's native files left out, the GPU checks use neither) packed as one tar.xz, and the
# stories260K files and texts the checks read. About 2 minutes; .device/ is about 40 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/AwqRuntime.Cli -c Release -nologo -clp:ErrorsOnly
if [ ! -f artifacts/native/libawq_kernels_cuda.so ]; then
  echo "device-pack: artifacts/native/libawq_kernels_cuda.so was not built (run scripts/cuda-toolkit.sh, then rebuild)" >&2
  exit 1
fi
pub=artifacts/device-publish
rm -rf "$pub" .device
dotnet publish src/AwqRuntime.Cli -c Release -r linux-x64 --self-contained -o "$pub" -nologo -clp:ErrorsOnly
rm -rf "$pub"/runtimes "$pub"/*.pdb "$pub"/libSkiaSharp.so "$pub"/libHarfBuzzSharp.so
cp artifacts/native/libawq_kernels_cuda.so "$pub"/
mkdir -p .device/shared
tar -cJf .device/awq-device.tar.xz -C "$pub" .
s=../shared
cp "$s"/models/stories260K/stories260K.bin "$s"/models/stories260K/tok512.bin "$s"/data/tinystories_eval.txt "$s"/data/tinystories_calib.txt \
  "$s"/models/llama2-tokenizer/tokenizer.model .device/shared/
du -sh .device
