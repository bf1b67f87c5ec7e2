#!/usr/bin/env bash
# The pure core does no I/O: no sockets, files, clock, threads, async runtime or GPU in
# src/equihash, src/consensus or src/stratum (see the architecture map in src/lib.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
pattern='std::net|std::fs|std::thread|std::process|Instant::now|SystemTime|tokio|wgpu|cudarc|reqwest|println!|eprintln!'
if grep -rnE "$pattern" src/equihash src/consensus src/stratum; then
  echo "layering: the pure core must not do I/O (matches above)" >&2
  exit 1
fi
echo "layering: ok (src/equihash, src/consensus, src/stratum are free of I/O)"
