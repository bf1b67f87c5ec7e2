#!/usr/bin/env bash
# Started by HiveOS: runs fluxminer with the config h-config.sh wrote, logging where HiveOS
# rotates. A non-zero exit (the watchdog gave up on a device) makes HiveOS restart the miner.
cd "$(dirname "$0")" || exit 1
. ./h-manifest.conf
mkdir -p "$(dirname "$CUSTOM_LOG_BASENAME")"
# shellcheck disable=SC2086 # CUSTOM_USER_CONFIG holds extra flags, split on purpose
./fluxminer --config "$CUSTOM_CONFIG_FILENAME" mine $CUSTOM_USER_CONFIG 2>&1 \
    | tee --append "$CUSTOM_LOG_BASENAME.log"
exit "${PIPESTATUS[0]}"
