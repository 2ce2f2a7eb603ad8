#!/bin/sh
# What the MCP gateway adds to tools/call, beside the same client calling the same server directly.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup test >/dev/null
./scripts/build-release --product vigil >/dev/null
mkdir -p bench/work
# The floor: a do-nothing relay in C, run beside the gateway (what two extra pipe hops cost here).
${CC:-cc} -O2 -pthread bench/relay.c -o bench/work/relay
exec python3 bench/mcp_latency.py .build/release/vigil .venv/mcp/bin/mcp-server-time bench/work/mcp "${CALLS:-2000}" bench/work/relay
