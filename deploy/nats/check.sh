#!/usr/bin/env bash
# Config-tests every deploy/nats/*.conf with the current nats-server (`nats-server -t`).
# Passwords are placeholders: -t only needs the $VARS to exist.
# Usage: bash deploy/nats/check.sh [path/to/nats-server]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
binary="${1:-$(bash "$here/../../scripts/fetch-nats-server.sh" | tail -n 1)}"
for var in SYS ROUTER RECONCILER OPS CLINIC_A HOSPITAL_B LEAF_ADAPTER LEAF_SYS; do
  export "HIX_NATS_${var}_PASSWORD=check-only"
done
export HIX_NATS_HUB_LEAF_URL="nats-leaf://clinic_a:check-only@127.0.0.1:7422"
status=0
for conf in "$here"/*.conf; do
  if ! "$binary" -t -c "$conf"; then status=1; fi
done
exit "$status"
