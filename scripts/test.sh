#!/usr/bin/env bash
# Installs what the tests need and runs every check CI runs: formatting, clippy with warnings
# as errors, the layering rule, and the whole test suite (optimized: see [profile.test]).
#
# Usage: scripts/test.sh [--full]
#   (default)  block 400000 and 1 random full-size ZelHash input on lavapipe and on the
#              CUDA-on-CPU shim (under 15 minutes on the 2-core CI machine, build included)
#   --full     the long series too: 20 random full-size ZelHash inputs compared with the CPU
#              solver on lavapipe (about 2 minutes each; FLUXMINER_WGPU_FULL_N overrides the count)
#              and 3 on the CUDA-on-CPU shim (FLUXMINER_CUDA_CPU_FULL_N)
set -euo pipefail
cd "$(dirname "$0")/.."

for arg in "$@"; do
    case "$arg" in
        --full)
            export FLUXMINER_WGPU_FULL_N="${FLUXMINER_WGPU_FULL_N:-20}"
            export FLUXMINER_CUDA_CPU_FULL_N="${FLUXMINER_CUDA_CPU_FULL_N:-3}"
            ;;
        *) echo "usage: scripts/test.sh [--full]" >&2; exit 2 ;;
    esac
done

need() { command -v "$1" >/dev/null 2>&1 || { echo "missing: $1 ($2)" >&2; exit 2; }; }
need cargo "install Rust (rustup) first"
cargo fmt --version >/dev/null 2>&1 || { echo "missing: rustfmt (rustup component add rustfmt)" >&2; exit 2; }
cargo clippy --version >/dev/null 2>&1 || { echo "missing: clippy (rustup component add clippy)" >&2; exit 2; }


# The CUDA kernels are proven without a GPU: on the CPU through kernels/cuda_cpu.h (needs a C++
# compiler) and compiled for every NVIDIA target by NVRTC from PyPI (needs Python 3 with pip).
apt_install() {
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "missing: $*, and no root or sudo to install it" >&2; exit 2; }
        SUDO="sudo"
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}
# The wgpu tests need a Vulkan device; with no GPU that is Mesa's lavapipe (CPU Vulkan driver).
# Everything is installed only when missing, as root or through sudo; a test that finds no device
# or compiler fails, it never skips.
if ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 || ! ldconfig -p 2>/dev/null | grep -q libvulkan.so.1; then
    echo "== installing lavapipe (mesa-vulkan-drivers, libvulkan1)"
    apt_install mesa-vulkan-drivers libvulkan1
fi
command -v c++ >/dev/null 2>&1 || { echo "== installing g++"; apt_install g++; }
python3 -m pip --version >/dev/null 2>&1 || { echo "== installing python3-pip"; apt_install python3-pip; }
NVRTC_DIR="target/nvrtc"
export FLUXMINER_NVRTC="$PWD/$NVRTC_DIR/nvidia/cuda_nvrtc/lib/libnvrtc.so.12"
if [ ! -e "$FLUXMINER_NVRTC" ]; then
    echo "== installing NVRTC (nvidia-cuda-nvrtc-cu12 from PyPI) into $NVRTC_DIR"
    python3 -m pip install -q --target "$NVRTC_DIR" "nvidia-cuda-nvrtc-cu12==12.9.*" 2>/dev/null \
        || python3 -m pip install -q --break-system-packages --target "$NVRTC_DIR" "nvidia-cuda-nvrtc-cu12==12.9.*"
fi
export FLUXMINER_CACHE_DIR="$PWD/target/cuda-cpu"
# The API tests (tests/api.rs): the dashboard in Debian's headless chromium, /metrics through the
# Prometheus project's reference parser (Python prometheus_client), HiveOS's h-stats.sh (curl, jq).
command -v chromium-headless-shell >/dev/null 2>&1 || { echo "== installing chromium-headless-shell"; apt_install --no-install-recommends chromium-headless-shell; }
command -v curl >/dev/null 2>&1 && command -v jq >/dev/null 2>&1 || { echo "== installing curl, jq"; apt_install curl jq; }
export FLUXMINER_PYDEPS="$PWD/target/pydeps"
if [ ! -d "$FLUXMINER_PYDEPS/prometheus_client" ]; then
    echo "== installing prometheus-client (PyPI) into target/pydeps"
    python3 -m pip install -q --target "$FLUXMINER_PYDEPS" "prometheus-client==0.23.*" 2>/dev/null \
        || python3 -m pip install -q --break-system-packages --target "$FLUXMINER_PYDEPS" "prometheus-client==0.23.*"
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets --features cuda-cpu -- -D warnings"
cargo clippy --all-targets --locked --features cuda-cpu -- -D warnings
echo "== CUDA-on-CPU shim self-test"
scripts/cuda-cpu-selftest.sh
echo "== layering"
scripts/check-layering.sh
echo "== cargo test"
# Benches and examples are type-checked and linted by clippy above; building them optimized again
# here would cost minutes of CI time without running any test.
cargo test --locked --features cuda-cpu --lib --bins --tests
cargo test --locked --features cuda-cpu --doc
