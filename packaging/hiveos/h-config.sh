#!/usr/bin/env bash
# Sourced by HiveOS before every miner start: writes fluxminer's config file from the flight
# sheet. CUSTOM_URL (one or more pool URLs, whitespace-separated: failover in that order),
# CUSTOM_TEMPLATE (ADDR.WORKER) and CUSTOM_PASS go into the [mine] table; CUSTOM_USER_CONFIG
# (extra fluxminer flags) is passed on the command line by h-run.sh, where flags override the
# file.
. "$(dirname "${BASH_SOURCE[0]}")/h-manifest.conf"

toml_string() { # a TOML basic string
    local s=${1//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}

{
    echo "# Written by h-config.sh from the HiveOS flight sheet; edits are overwritten."
    echo "[mine]"
    pools=""
    for url in $CUSTOM_URL; do
        pools+="${pools:+, }$(toml_string "$url")"
    done
    [[ -n $pools ]] && echo "pool = [$pools]"
    [[ -n $CUSTOM_TEMPLATE ]] && echo "user = $(toml_string "$CUSTOM_TEMPLATE")"
    [[ -n $CUSTOM_PASS ]] && echo "pass = $(toml_string "$CUSTOM_PASS")"
    echo "api = $(toml_string "127.0.0.1:$FLUXMINER_API_PORT")"
} > "$CUSTOM_CONFIG_FILENAME"
