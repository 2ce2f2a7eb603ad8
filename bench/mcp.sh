#!/bin/sh
# What the MCP gateway adds to tools/call, beside the same client calling the same server directly.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup test >/dev/null
swift build -c release --product vigil >/dev/null
mkdir -p bench/work
exec python3 bench/mcp_latency.py .build/release/vigil .venv/mcp/bin/mcp-server-time bench/work/mcp "${CALLS:-2000}"
