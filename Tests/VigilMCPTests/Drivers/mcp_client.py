"""Drives the real MCP Python client (PyPI `mcp`) through `vigil mcp proxy` over stdio.

usage: mcp_client.py VIGIL CONFIG|URL MODE STEPS_JSON
With a CONFIG the gateway is spawned over stdio; with an http:// URL the client speaks Streamable
HTTP to a gateway already listening there, sending the token as a bearer token. MODE is `legacy` (initialize handshake, 2025-11-25) or `2026-07-28` (no handshake, _meta per request).
STEPS is a list of {"op": "list"} | {"op": "call", "tool": T, "args": {...}} | {"op": "sleep", "s": S}.
Prints one JSON object: {"steps": [...]} with each step's outcome, or {"failed": reason}.
The agent token comes from VIGIL_AGENT_TOKEN in this process's environment.
"""
import asyncio
import json
import os
import sys

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError


async def main(vigil, config, mode, steps):
    token = os.environ.get("VIGIL_AGENT_TOKEN", "")
    if config.startswith("http://") or config.startswith("https://"):
        # HTTPS to a gateway with a test certificate: VIGIL_TEST_CA names the CA to trust.
        verify = os.environ.get("VIGIL_TEST_CA") or True
        http = httpx2.AsyncClient(headers={"Authorization": "Bearer " + token}, verify=verify)
        target = streamable_http_client(config, http_client=http)
    else:
        env = {"VIGIL_AGENT_TOKEN": token, "PATH": os.environ["PATH"]}
        target = StdioServerParameters(command=vigil, args=["mcp", "proxy", "--config", config], env=env)
    out = []
    async with Client(target, mode=mode, cache=None) as client:
        out.append({"protocol": client.protocol_version})
        for step in steps:
            op = step["op"]
            if op == "list":
                tools = await client.list_tools()
                out.append({"tools": sorted(t.name for t in tools.tools)})
            elif op == "call":
                try:
                    r = await client.call_tool(step["tool"], step.get("args", {}))
                    text = "".join(getattr(c, "text", "") for c in r.content)
                    out.append({"text": text, "is_error": bool(r.is_error)})
                except MCPError as e:
                    out.append({"error_code": e.code, "error": str(e), "data": getattr(e.error, "data", None)})
            elif op == "sleep":
                await asyncio.sleep(step["s"])
                out.append({"slept": step["s"]})
    return {"steps": out}


if __name__ == "__main__":
    vigil, config, mode, steps = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    try:
        result = asyncio.run(main(vigil, config, mode, steps))
    except BaseException as e:  # report, never hang the test
        result = {"failed": f"{type(e).__name__}: {e}"}
    print(json.dumps(result))
