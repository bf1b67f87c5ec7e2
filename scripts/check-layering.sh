#!/usr/bin/env bash
# The layering of src/lib.rs's architecture map, checked with greps:
# - the pure core does no I/O: no sockets, files, clock, threads, async runtime or GPU in
#   src/equihash, src/consensus, src/stratum, src/ledger.rs, nor in the mining engine, failover,
#   watchdog and status documents;
# - imports run one way, cli -> net -> miner -> core (backend, stratum, consensus, equihash):
#   the core never imports miner, net or cli; miner never imports net or cli, nor tokio;
#   net never imports cli;
# - telemetry (GPU sensors) is hardware I/O beside the backends: it imports no other layer.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
check() { # $1: what is wrong, $2: pattern (code, not comments), rest: paths
    local why="$1" pattern="$2"
    shift 2
    # Doc and line comments may name other layers.
    if grep -rnE "$pattern" "$@" | grep -vE '^[^:]+:[0-9]+:[[:space:]]*//'; then
        echo "layering: $why (matches above)" >&2
        fail=1
    fi
}
io='std::net|std::fs|std::thread|std::process|Instant::now|SystemTime|tokio|wgpu|cudarc|reqwest|println!|eprintln!'
check "the pure core must not do I/O" "$io" src/equihash src/consensus src/stratum src/p2p \
    src/ledger.rs src/miner/engine.rs src/miner/engine src/miner/failover.rs src/miner/watchdog.rs src/miner/status.rs src/miner/status
check "the core must not import miner, net or cli" 'crate::(miner|net|cli)\b' \
    src/equihash src/consensus src/stratum src/p2p src/backend src/ledger.rs
check "the ledger may use consensus only" 'crate::(store|backend|stratum|p2p|equihash|fuzz)\b' src/ledger.rs
check "miner must not import net, cli or tokio" 'crate::(net|cli)\b|tokio' src/miner
check "net must not import cli" 'crate::cli\b' src/net
check "telemetry must not import miner, net, cli or backend" 'crate::(miner|net|cli|backend)\b' src/telemetry
[ "$fail" = 0 ] || exit 1
echo "layering: ok (pure core and engine free of I/O; imports run cli -> net -> miner -> core; telemetry imports no layer)"
