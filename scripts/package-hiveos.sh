#!/usr/bin/env bash
# Builds the HiveOS custom-miner package fluxminer-VERSION.tar.gz: the directory fluxminer/
# holding the binary and h-manifest.conf, h-config.sh, h-run.sh, h-stats.sh (from
# packaging/hiveos/), the layout of minershive/hiveos-linux hive/miners/custom/README.md.
#
# Usage: scripts/package-hiveos.sh [--binary PATH] [--out DIR]
#   --binary PATH  the fluxminer binary to ship (default: cargo build --release, stripped)
#   --out DIR      where the tarball goes (default: target/package)
# Prints the tarball's path.
set -euo pipefail
cd "$(dirname "$0")/.."
binary="" out="target/package"
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binary="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        *) echo "usage: scripts/package-hiveos.sh [--binary PATH] [--out DIR]" >&2; exit 2 ;;
    esac
done
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
case "$version" in
    ""|*-*) echo "package-hiveos: version '$version' is empty or holds '-' (HiveOS forbids it)" >&2; exit 2 ;;
esac
if [ -z "$binary" ]; then
    cargo build --release --locked >&2
    binary="target/release/fluxminer"
fi
[ -x "$binary" ] || { echo "package-hiveos: no executable at $binary" >&2; exit 2; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dir="$stage/fluxminer"
mkdir -p "$dir" "$out"
cp "$binary" "$dir/fluxminer"
strip "$dir/fluxminer" 2>/dev/null || true
for f in h-config.sh h-run.sh h-stats.sh; do
    install -m 0755 "packaging/hiveos/$f" "$dir/$f"
done
sed "s/@VERSION@/$version/" packaging/hiveos/h-manifest.conf > "$dir/h-manifest.conf"
tarball="$(cd "$out" && pwd)/fluxminer-$version.tar.gz"
tar -C "$stage" -czf "$tarball" fluxminer
echo "$tarball"
