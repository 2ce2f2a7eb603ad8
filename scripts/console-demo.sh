#!/usr/bin/env bash
# `make console`: the live service on the demo's office week. Replays out/office.pcap (made by
# `make demo`) into a fresh store, then serves the API and the web console until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out}
V=.build/release/vigil
[ -f "$OUT/office.pcap" ] || $V simulate --devices 24 --days 5 --attacks all --out "$OUT/office.pcap"
TOKEN=$($V serve token demo analyst)
SECRET=$(echo "$TOKEN" | head -1 | awk '{print $NF}')
rm -f "$OUT"/console.sqlite*
cat > "$OUT/console.conf" <<CONF
# written by scripts/console-demo.sh
store $PWD/$OUT/console.sqlite
replay $PWD/$OUT/office.pcap
listen 127.0.0.1:${PORT:-8640}
baseline_days 2
$(echo "$TOKEN" | tail -1)
CONF
echo "console: http://127.0.0.1:${PORT:-8640}/   token: $SECRET   (Ctrl-C stops)"
exec $V serve --config "$OUT/console.conf"
