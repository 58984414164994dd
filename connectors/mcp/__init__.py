"""The MCP server (Model Context Protocol) at /mcp: tools over the same services, access helper, limits and
execution records as the REST API. server.py has the tools; view.py serves them over Streamable HTTP."""
