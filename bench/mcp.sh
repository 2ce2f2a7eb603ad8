#!/bin/sh
# What the MCP gateway adds to tools/call, beside the same client calling the same server directly.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup test >/dev/null
./scripts/build-release --product vigil >/dev/null
mkdir -p bench/work
# The floor: a do-nothing relay in C, run beside the gateway (what two extra pipe hops cost here).
${CC:-cc} -O2 -pthread bench/relay.c -o bench/work/relay
# The client's protocol revision: ERA=2026-07-28 (no handshake) or 2025-11-25 (initialize); both by default.
for era in ${ERA:-2026-07-28 2025-11-25}; do
  python3 bench/mcp_latency.py .build/release/vigil .venv/mcp/bin/mcp-server-time bench/work/mcp "${CALLS:-2000}" bench/work/relay "$era"
  echo
done
