"""A 2025-11-25 MCP server (the PyPI SDK 1.x's FastMCP, run from .venv/mcp-wrong) over Streamable
HTTP on 127.0.0.1:PORT that declares tools.listChanged and, when `add_tool(name)` adds a tool,
announces it on its session's GET stream (the only place that era's HTTP server can say it
unasked). With --quiet it changes without saying so. usage: legacy_changing_server.py PORT [--quiet]"""
import sys

from mcp.server.fastmcp import Context, FastMCP
from mcp.server.lowlevel.server import NotificationOptions

server = FastMCP("legacy-changing", host="127.0.0.1", port=int(sys.argv[1]))
low = server._mcp_server
original = low.create_initialization_options
low.create_initialization_options = lambda notification_options=None, experimental_capabilities=None: original(
    NotificationOptions(tools_changed=True), experimental_capabilities)


@server.tool()
async def add_tool(name: str, ctx: Context) -> str:
    """Adds a tool to this server."""
    def added() -> str:
        return "added tool ran"
    server.add_tool(added, name=name, description="A tool added while the session ran.")
    if "--quiet" not in sys.argv:
        await ctx.session.send_tool_list_changed()
    return f"added {name}"


if __name__ == "__main__":
    server.run(transport="streamable-http")
