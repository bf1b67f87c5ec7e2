#!/usr/bin/env bash
# Installs what the tests need and runs every check CI runs: formatting, clippy with warnings
# as errors, the layering rule, and the whole test suite (optimized: see [profile.test]).
#
# Usage: scripts/test.sh [--full]
#   (default)  block 400000 and 2 random full-size ZelHash inputs on lavapipe (under 15 minutes
#              on the 2-core CI machine, build included)
#   --full     the long series too: 20 random full-size ZelHash inputs compared with the CPU
#              solver on lavapipe (about 2 minutes each; FLUXMINER_WGPU_FULL_N overrides the count)
set -euo pipefail
cd "$(dirname "$0")/.."

for arg in "$@"; do
    case "$arg" in
        --full) export FLUXMINER_WGPU_FULL_N="${FLUXMINER_WGPU_FULL_N:-20}" ;;
        *) echo "usage: scripts/test.sh [--full]" >&2; exit 2 ;;
    esac
done

need() { command -v "$1" >/dev/null 2>&1 || { echo "missing: $1 ($2)" >&2; exit 2; }; }
need cargo "install Rust (rustup) first"
cargo fmt --version >/dev/null 2>&1 || { echo "missing: rustfmt (rustup component add rustfmt)" >&2; exit 2; }
cargo clippy --version >/dev/null 2>&1 || { echo "missing: clippy (rustup component add clippy)" >&2; exit 2; }

# The wgpu tests need a Vulkan device; with no GPU that is Mesa's lavapipe (CPU Vulkan driver).
# Installed only when missing, as root or through sudo; a test that finds no adapter fails.
if ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 || ! ldconfig -p 2>/dev/null | grep -q libvulkan.so.1; then
    echo "== installing lavapipe (mesa-vulkan-drivers, libvulkan1)"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "missing: lavapipe, and no root or sudo to install it" >&2; exit 2; }
        SUDO="sudo"
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings
echo "== layering"
scripts/check-layering.sh
echo "== cargo test"
# Benches and examples are type-checked and linted by clippy above; building them optimized again
# here would cost minutes of CI time without running any test.
cargo test --locked --lib --bins --tests
cargo test --locked --doc
