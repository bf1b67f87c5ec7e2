#!/usr/bin/env bash
# The GPU measurements issues 9 and 10 ask for, as one prepared run for a lent GPU machine (the
# tool library's `device` tool: no cargo and no network there, 15 minutes of device time per
# session, start-up included). Not CI.
#
#   here:   scripts/device-bench.sh prepare
#           release build stripped into dev-bin/fluxminer, and the Vulkan loader's Debian
#           packages in .gl/ (both ignored through .git/info/exclude)
#   there:  device run, carry ["dev-bin", ".gl"], timeout_s 540, command:
#           bash scripts/device-bench.sh run
#
# `run` does every step under its own timeout, prints what it measures and keeps the logs in
# $OUT (default /tmp/device-bench): the card (nvidia-smi), `fluxminer devices`, then for wgpu
# (Vulkan) and CUDA a profiled bench (per-stage times and the counted traffic line) and a
# pipelined bench (`--nonces` as issues 9 and 10 name them). Each figure goes in a note with the
# card, the command and the nonce count. NONCES_WGPU / NONCES_CUDA / NONCES_PROFILE override the
# counts; STEP_S the timeout of each bench (default 120 s).
set -uo pipefail
cd "$(dirname "$0")/.."

prepare() {
    set -e
    cargo build --release --locked
    mkdir -p dev-bin .git/info
    strip -o dev-bin/fluxminer target/release/fluxminer
    for p in /dev-bin/ /.gl/; do
        grep -qxF "$p" .git/info/exclude 2>/dev/null || echo "$p" >>.git/info/exclude
    done
    if [ ! -d .gl ] || ! ls .gl/*.deb >/dev/null 2>&1; then
        mkdir -p .gl /tmp/amd64/partial
        local o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
        apt-get "${o[@]}" update -qq
        (cd .gl && apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
    fi
    du -sh dev-bin .gl
    echo "next: device run with carry [\"dev-bin\", \".gl\"]: bash scripts/device-bench.sh run"
}

# Runs "$@" under `timeout STEP_S`, output to the screen and to $OUT/<name>.log.
step() {
    local name="$1" limit="$2"
    shift 2
    echo "== $name: $* (timeout ${limit} s) $(date +%T)"
    timeout "$limit" "$@" 2>&1 | grep -v XDG_RUNTIME_DIR | tee "$OUT/$name.log"
    local rc=${PIPESTATUS[0]}
    [ "$rc" = 0 ] || echo "== $name: exit $rc"
}

run() {
    OUT="${OUT:-/tmp/device-bench}"
    mkdir -p "$OUT"
    local bin=dev-bin/fluxminer s="${STEP_S:-120}"
    [ -x "$bin" ] || { echo "no $bin: run 'scripts/device-bench.sh prepare' here first and carry dev-bin" >&2; exit 2; }
    for f in .gl/*.deb; do [ -e "$f" ] && dpkg -x "$f" /; done
    ldconfig
    # NVRTC for `--backend cuda --profile` (the embedded cubins need none): the toolkit's, if any.
    for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
        [ -d "$d" ] && export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    done
    if [ -e /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
        export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    fi
    step nvidia-smi 30 nvidia-smi --query-gpu=name,pci.bus_id,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit --format=csv
    step devices 60 "$bin" devices
    step wgpu-profile "$s" "$bin" bench --backend wgpu --profile --nonces "${NONCES_PROFILE:-20}"
    step wgpu "$s" "$bin" bench --backend wgpu --nonces "${NONCES_WGPU:-100}"
    step cuda-profile "$s" "$bin" bench --backend cuda --profile --nonces "${NONCES_PROFILE:-20}"
    step cuda "$s" "$bin" bench --backend cuda --nonces "${NONCES_CUDA:-200}"
    step nvidia-smi-after 30 nvidia-smi
    echo "== done $(date +%T); logs in $OUT"
}

case "${1:-}" in
    prepare) prepare ;;
    run) run ;;
    *) echo "usage: scripts/device-bench.sh prepare|run" >&2; exit 2 ;;
esac
