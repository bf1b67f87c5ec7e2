#!/usr/bin/env bash
# Interop run (not CI): the RunOnFlux ZelHash reference miner (OpenCL, run on the CPU through
# Debian's pocl) mining against `fluxminer pool` on loopback, with every stratum line logged by
# scripts/interop/lineproxy.py between them.
#
# Miner source (not fetched by this script; no network is needed beyond Debian packages):
#   https://github.com/RunOnFlux/ZelHash-reference-miner
#   commit 3ce577cfefb17c66f6ee71139efecfd43f14ad00 (2019-06-15, "Fixed a string"), v1.0.0, MIT
# Put a checkout (or `git archive` of that commit) in $REFMINER_SRC; its files are checked
# against the sha256 sums below. It is built with g++ directly: its CMakeLists.txt asks for
# static Boost with a static runtime, which Debian's Boost 1.74 does not offer; the code is the
# same (Boost.System is header-only there).
#
# Usage: scripts/interop/zelhash-reference-miner.sh
#   env: REFMINER_SRC  miner source dir          (default /work/interop-scratch/refminer)
#        FLUXMINER     fluxminer binary           (default target/release/fluxminer, built if missing)
#        OUT           logs dir                   (default /work/interop-scratch/refminer-run-<time>)
#        DURATION      seconds the miner mines    (default 2400)
#        DIFFICULTY    pool share difficulty      (default 0.0002: ~61 % of solutions are shares)
#        JOB_INTERVAL  pool seconds between jobs  (default 300)
#        NONCE1_BYTES  pool NONCE_1 length        (default 4)
#        GOLDEN        1 = first check that the kernel finds block 400000's two solutions (default 1)
#        PORT          pool port; the proxy listens on PORT+1 (default 3401)
#        SNOMP_WORK    if it holds node-stratum-pool's npm install and Node 8 (as made by
#                      snomp-fluxminer.sh), every submit is also re-checked with s-nomp's
#                      equihashverify (default /work/interop-scratch/snomp)
# Exit status 0 only if the pool accepted at least one share and rejected none and the miner
# counted no reject.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/scripts/interop"
REFMINER_SRC="${REFMINER_SRC:-/work/interop-scratch/refminer}"
FLUXMINER="${FLUXMINER:-$ROOT/target/release/fluxminer}"
OUT="${OUT:-/work/interop-scratch/refminer-run-$(date -u +%Y%m%dT%H%M%SZ)}"
DURATION="${DURATION:-2400}"
DIFFICULTY="${DIFFICULTY:-0.0002}"
JOB_INTERVAL="${JOB_INTERVAL:-300}"
NONCE1_BYTES="${NONCE1_BYTES:-4}"
GOLDEN="${GOLDEN:-1}"
PORT="${PORT:-3401}"
SNOMP_WORK="${SNOMP_WORK:-/work/interop-scratch/snomp}"
PROXY_PORT=$((PORT + 1))

# 1. Packages (Debian 12): compiler, Boost (asio, property_tree), OpenCL ICD loader + pocl (CPU).
pkgs="g++ libboost-dev libboost-system-dev ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo python3"
missing=""
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi
clinfo -l

# 2. The miner's source, checked file by file against the commit above.
[ -f "$REFMINER_SRC/zelStratum.cpp" ] || { echo "no miner source in $REFMINER_SRC (see the header of this script)" >&2; exit 2; }
(cd "$REFMINER_SRC" && sha256sum -c --quiet <<'EOF'
d17ed539847de4353d8d644f793c08550f2c4cd01e3fec4bbc94643be09212ef  main.cpp
c34b2a08aaab50767e2e6ee57536260d0c92e7c2b4ad59c081fc77f89c98484d  zelStratum.cpp
ece5a0ff7dfadda8b705dd802b9e90da1ef1703e87af1a202bed606ace7d1403  zelStratum.h
9ff3bad033998abcf6d32167ebbebd7c152fb258bf9435c3fa93d401e4693f89  clHost.cpp
0d664cef6ae228a22e4ebedbebc3ed4e126da74bcc239dad2b3b20573bde3046  clHost.h
06dbcab9f087b88508764d99349d1a83b4417469ee294a1c7e2ba7b783c6c09d  kernels/equihash_125_4_inc.h
9b881f0f36b9e58a0d37602256841280f93463aacc9cbe5cdca2cc642ba704a0  crypto/sha256.c
a078d35ecccb12795a13faa2815462ceb11939d20b8c7191e9248dc900bc63c5  crypto/blake2b.cpp
6288db71d7386e1914d1203d0e274d51950e7b56e146d2eb59ef46aae10e6f92  crypto/blake2b.h
EOF
)

# 3. Build (crypto/sha256.c is #included by zelStratum.cpp).
mkdir -p "$OUT"
BUILD="$OUT/build"
mkdir -p "$BUILD"
CXX="nice g++ -std=c++17 -O2 -w -DBOOST_BIND_GLOBAL_PLACEHOLDERS -DCL_TARGET_OPENCL_VERSION=120 -I$REFMINER_SRC -I$REFMINER_SRC/clHeaders"
$CXX "$REFMINER_SRC/zelStratum.cpp" "$REFMINER_SRC/clHost.cpp" "$REFMINER_SRC/main.cpp" \
    "$REFMINER_SRC/crypto/blake2b.cpp" -o "$BUILD/zelhash-opencl-miner" -lOpenCL -lpthread -ldl
MINER="$BUILD/zelhash-opencl-miner"
"$MINER" --version

if [ ! -x "$FLUXMINER" ]; then
    (cd "$ROOT" && nice cargo build --release)
fi
"$FLUXMINER" --version

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# 4. Optional golden check: the miner's kernel on pocl must find block 400000's two solutions.
if [ "$GOLDEN" = 1 ]; then
    $CXX "$HERE/refminer_golden.cpp" "$REFMINER_SRC/clHost.cpp" "$REFMINER_SRC/crypto/blake2b.cpp" \
        -o "$BUILD/refminer_golden" -lOpenCL -lpthread
    nice "$BUILD/refminer_golden" 0 > "$OUT/golden.log" 2>&1 &
    gpid=$!
    ok=0
    for _ in $(seq 1 120); do
        sleep 5
        if grep -q '9cfd1100","340898985c54d7c66d04fbe9509445c19e664aca4b8d16a701f9f90eda443a556f37cc4627335201339b001ea2ed29eeeec7da199b"' "$OUT/golden.log" &&
           grep -q '9cfd1100","3408abd63ba97c17abd02ba77b782f5a810c84fcd6edb26fad50cc1a690d930ec62ed67183c146d4943590b475c7fba048ff8888aa"' "$OUT/golden.log"; then
            ok=1; break
        fi
    done
    kill "$gpid" 2>/dev/null || true; wait "$gpid" 2>/dev/null || true
    [ "$ok" = 1 ] || { echo "golden check failed: block 400000's solutions not found (see $OUT/golden.log)" >&2; exit 1; }
    echo "golden check: the reference miner's kernel on pocl finds block 400000's two solutions"
fi

# 5. Pool, proxy, miner.
RUST_LOG="${RUST_LOG:-info,fluxminer=debug}" nice "$FLUXMINER" pool --listen "127.0.0.1:$PORT" \
    --difficulty "$DIFFICULTY" --job-interval "$JOB_INTERVAL" --nonce1-bytes "$NONCE1_BYTES" \
    --report-interval 60 --duration $((DURATION + 20)) > "$OUT/pool.log" 2>&1 &
pool_pid=$!; pids+=("$pool_pid")
sleep 1
python3 "$HERE/lineproxy.py" "$PROXY_PORT" "127.0.0.1:$PORT" "$OUT/lines.log" > "$OUT/proxy.out" 2>&1 &
pids+=("$!")
sleep 1
start=$(date +%s)
nice "$MINER" --server "127.0.0.1:$PROXY_PORT" --user t1RefMinerInterop.ref --pass x --enable-cpu --debug \
    > "$OUT/miner.log" 2>&1 &
miner_pid=$!; pids+=("$miner_pid")
sleep "$DURATION"
kill "$miner_pid" 2>/dev/null || true
wait "$miner_pid" 2>/dev/null || true
end=$(date +%s)
wait "$pool_pid" || true

# 6. Counts from both sides and from the wire.
miner_acc=$(grep -c '^Share accepted' "$OUT/miner.log" || true)
miner_rej=$(grep -c '^Share rejected' "$OUT/miner.log" || true)
submits=$(grep -c 'C>S .*"mining.submit"' "$OUT/lines.log" || true)
wire_true=$(grep -c 'S>C .*"id":4,"result":true' "$OUT/lines.log" || true)
wire_err=$(grep 'S>C .*"id":4' "$OUT/lines.log" | grep -vc '"result":true' || true)
sols=$(awk '/^Performance:/ { s += $2 * 15 } END { printf "%.0f", s }' "$OUT/miner.log")
{
    echo "miner: $($MINER --version), fluxminer: $($FLUXMINER --version)"
    echo "mined for $((end - start)) s; difficulty $DIFFICULTY; NONCE_1 $NONCE1_BYTES bytes; job interval $JOB_INTERVAL s"
    echo "miner log: $miner_acc accepted, $miner_rej rejected; about $sols solutions found (Performance lines)"
    echo "wire: $submits submits, $wire_true answered true, $wire_err answered otherwise"
    echo "pool's last report:"
    grep -E 'accepted, rejected|share checks' "$OUT/pool.log" | tail -2 | sed 's/\x1b\[[0-9;]*m//g'
    if [ -x "$SNOMP_WORK/node8/package/bin/node" ] && [ -d "$SNOMP_WORK/node_modules/equihashverify" ]; then
        echo "cross-check of every submit with s-nomp's equihashverify + SHA256d:"
        NODE_PATH="$SNOMP_WORK/node_modules" "$SNOMP_WORK/node8/package/bin/node" "$HERE/crosscheck_shares.js" \
            "$OUT/lines.log" 2>/dev/null | tail -1 || true
    fi
} | tee "$OUT/summary.txt"
pool_last=$(grep 'accepted, rejected' "$OUT/pool.log" | tail -1 | sed 's/\x1b\[[0-9;]*m//g')
pool_acc=$(echo "$pool_last" | sed -n 's/.*: \([0-9]*\) accepted.*/\1/p')
pool_rej=$(echo "$pool_last" | sed -n 's/.*rejected \([0-9]*\) stale \/ \([0-9]*\) duplicate \/ \([0-9]*\) low-diff \/ \([0-9]*\) other.*/\1+\2+\3+\4/p')
[ "${pool_acc:-0}" -gt 0 ] && [ "$(( ${pool_rej:-1} ))" -eq 0 ] && [ "$miner_rej" -eq 0 ] && [ "$wire_err" -eq 0 ]
