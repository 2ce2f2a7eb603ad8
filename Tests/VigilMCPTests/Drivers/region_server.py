"""An MCP server (the PyPI SDK's MCPServer) whose tool marks arguments with x-mcp-header, so a
2026-07-28 client mirrors them into Mcp-Param-* headers."""
from typing import Annotated
from pydantic import Field
from mcp.server.mcpserver import MCPServer

server = MCPServer("regions")

@server.tool()
def deploy(region: Annotated[str, Field(json_schema_extra={"x-mcp-header": "Region"})], replicas: Annotated[int, Field(json_schema_extra={"x-mcp-header": "Replicas"})] = 1) -> str:
    """Deploy the service to a region."""
    return f"deployed {replicas} to {region}"

if __name__ == "__main__":
    server.run()
