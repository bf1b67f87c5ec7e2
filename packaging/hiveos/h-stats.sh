#!/usr/bin/env bash
# Sourced by the HiveOS agent (inside its miner_stats function): sets khs (total kH/s) and
# stats (JSON: hs, hs_units, temp, fan, uptime, ver, ar, algo, bus_numbers), both read from
# fluxminer's API route /hiveos, which computes them. Prints nothing and never exits.
_fluxminer_dir=$(dirname "${BASH_SOURCE[0]}")
. "$_fluxminer_dir/h-manifest.conf"
_fluxminer_json=$(curl --silent --fail --max-time "${API_TIMEOUT:-5}" \
    "http://127.0.0.1:${FLUXMINER_API_PORT}/hiveos" 2>/dev/null)
if [[ -n $_fluxminer_json ]]; then
    khs=$(jq -r '.khs' <<< "$_fluxminer_json" 2>/dev/null)
    stats=$(jq -c '.stats' <<< "$_fluxminer_json" 2>/dev/null)
else
    khs=0
    stats="null"
fi
[[ -z $khs || $khs == null ]] && khs=0
[[ -z $stats ]] && stats="null"
unset _fluxminer_dir _fluxminer_json
