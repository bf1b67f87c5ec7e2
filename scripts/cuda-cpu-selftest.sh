#!/usr/bin/env bash
# Builds and runs the self-test of kernels/cuda_cpu.h (the CPU shim that runs CUDA kernel source
# on fibers). No GPU needed. Exit status non-zero when the build or a check fails.
#
# Usage: scripts/cuda-cpu-selftest.sh   (CXX overrides the compiler, default g++)
set -euo pipefail
cd "$(dirname "$0")/.."

CXX="${CXX:-g++}"
command -v "$CXX" >/dev/null 2>&1 || { echo "missing: $CXX (a C++17 compiler)" >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "== building kernels/cuda_cpu_selftest.cpp"
"$CXX" -std=c++17 -O2 -pthread -Wall -Wextra -o "$tmp/cuda_cpu_selftest" kernels/cuda_cpu_selftest.cpp
echo "== running"
"$tmp/cuda_cpu_selftest"
