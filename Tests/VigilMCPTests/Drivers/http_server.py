"""Serves a real MCP server from PyPI over Streamable HTTP on 127.0.0.1, for the gateway's
HTTP-upstream tests: `time` is mcp-server-time's own server (both eras, mcp 2.x SDK); `wrong` is
mcp-server-everything-wrong's (handshake era only, mcp 1.x SDK). usage: http_server.py KIND PORT"""
import sys

kind, port = sys.argv[1], int(sys.argv[2])
if kind == "time":
    from mcp_server_time.server import create_server
    create_server("UTC").run(transport="streamable-http", host="127.0.0.1", port=port)
else:
    from mcp_server_everything_wrong.server import mcp
    mcp.settings.host = "127.0.0.1"
    mcp.settings.port = port
    mcp.run(transport="streamable-http")
