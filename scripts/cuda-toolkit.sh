#!/usr/bin/env bash
# Installs a CUDA compiler where none is: Debian's non-free nvidia-cuda-toolkit (nvcc 11.8) and
# g++-11, the newest host compiler it accepts. The build then compiles the CUDA plugin
# (native/src/cuda/, libawq_kernels_cuda.so) with it, so CUDA code that does not compile fails the
# build. No GPU is needed to compile; about 2–3 minutes and 3 GB on a fresh Debian 12.
set -euo pipefail
if command -v nvcc >/dev/null 2>&1; then exit 0; fi
run() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if [ ! -r /etc/os-release ] || ! grep -q '^ID=debian' /etc/os-release; then
  echo "cuda-toolkit: not Debian; install a CUDA toolkit (nvcc) yourself to build the CUDA kernels" >&2
  exit 1
fi
# the toolkit is in "non-free": add that component to apt's sources (deb822 or one-line format)
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  run sed -i -E '/^Components:/{/non-free( |$)/! s/$/ contrib non-free/}' /etc/apt/sources.list.d/debian.sources
fi
if [ -f /etc/apt/sources.list ]; then
  run sed -i -E '/^deb .*debian/{/non-free( |$)/! s/$/ contrib non-free/}' /etc/apt/sources.list
fi
echo "cuda-toolkit: installing nvidia-cuda-toolkit and g++-11 (Debian non-free)"
run apt-get update -qq
run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nvidia-cuda-toolkit g++-11 >/dev/null
nvcc --version | tail -1
