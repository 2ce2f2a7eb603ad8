"""Drives the real MCP Python client (PyPI `mcp`) through `vigil mcp proxy` over stdio.

usage: mcp_client.py VIGIL CONFIG|URL MODE STEPS_JSON
With a CONFIG the gateway is spawned over stdio; with an http:// URL the client speaks Streamable
HTTP to a gateway already listening there, sending the token as a bearer token. MODE is `legacy` (initialize handshake, 2025-11-25) or `2026-07-28` (no handshake, _meta per request).
STEPS is a list of {"op": "list"} | {"op": "call", "tool": T, "args": {...}} | {"op": "sleep", "s": S}
| {"op": "prompts"} | {"op": "prompt", "name": N, "args": {...}} | {"op": "resources"} (resources and
templates) | {"op": "read", "uri": U} | {"op": "complete", "prompt": N | "template": U, "argument": A,
"value": V} (completion/complete)
| {"op": "answer", "action": "accept"|"decline", "content": {...}} (how the user answers a server's
question from now on; each call's outcome lists the questions asked during it)
(the result also lists the tool-list notifications an older client heard, as "notified")
| {"op": "listen", "during": STEPS, "wait": S, "count": N, "prompts": B, "uris": [U]} (2026-07-28: opens
subscriptions/listen for tool list changes, prompt list changes when B, and updates of the resources U,
runs the inner steps, waits up to S seconds for N events (1 by default), then closes it)
| {"op": "subscribe", "uri": U} (resources/subscribe; the updates an older client heard are in "notified").
Prints one JSON object: {"steps": [...]} with each step's outcome, or {"failed": reason}.
The agent token comes from VIGIL_AGENT_TOKEN in this process's environment.
"""
import asyncio
import json

import anyio
import os
import sys

import httpx2
import mcp_types as types
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
    answer = {"action": "decline", "content": None}
    asked = []
    notified = []

    async def elicit(context, params):
        asked.append(params.message)
        return types.ElicitResult(action=answer["action"], content=answer["content"])

    async def on_message(message):
        if isinstance(message, types.ToolListChangedNotification):
            notified.append("tools/list_changed")
        elif isinstance(message, types.PromptListChangedNotification):
            notified.append("prompts/list_changed")
        elif isinstance(message, types.ResourceListChangedNotification):
            notified.append("resources/list_changed")
        elif isinstance(message, types.ResourceUpdatedNotification):
            notified.append("resources/updated " + str(message.params.uri))

    async with Client(target, mode=mode, cache=None, elicitation_callback=elicit, message_handler=on_message) as client:
        out.append({"protocol": client.protocol_version})
        await run_steps(client, steps, out, answer, asked)
    return {"steps": out, "notified": notified}


async def run_steps(client, steps, out, answer, asked):
    for step in steps:
        op = step["op"]
        if op == "list":
            tools = await client.list_tools()
            out.append({"tools": sorted(t.name for t in tools.tools)})
        elif op == "call":
            try:
                asked.clear()
                r = await client.call_tool(step["tool"], step.get("args", {}))
                text = "".join(getattr(c, "text", "") for c in r.content)
                out.append({"text": text, "is_error": bool(r.is_error), "asked": list(asked)})
            except MCPError as e:
                out.append({"error_code": e.code, "error": str(e), "data": getattr(e.error, "data", None), "asked": list(asked)})
        elif op in ("prompts", "resources", "prompt", "read", "complete", "subscribe"):
            try:
                if op == "subscribe":
                    await client.subscribe_resource(step["uri"])
                    out.append({"subscribed": step["uri"]})
                elif op == "complete":
                    ref = (types.PromptReference(type="ref/prompt", name=step["prompt"]) if "prompt" in step
                           else types.ResourceTemplateReference(type="ref/resource", uri=step["template"]))
                    r = await client.complete(ref, {"name": step["argument"], "value": step["value"]})
                    out.append({"values": r.completion.values})
                elif op == "prompts":
                    r = await client.list_prompts()
                    out.append({"prompts": sorted(p.name for p in r.prompts)})
                elif op == "resources":
                    r = await client.list_resources()
                    t = await client.list_resource_templates()
                    out.append({"resources": sorted(str(x.uri) for x in r.resources),
                                "templates": sorted(x.uri_template for x in t.resource_templates)})
                elif op == "prompt":
                    r = await client.get_prompt(step["name"], step.get("args", {}))
                    out.append({"messages": [getattr(m.content, "text", "") for m in r.messages]})
                else:
                    r = await client.read_resource(step["uri"])
                    out.append({"contents": [getattr(c, "text", "") for c in r.contents]})
            except MCPError as e:
                out.append({"error_code": e.code, "error": str(e)})
        elif op == "answer":
            answer["action"], answer["content"] = step["action"], step.get("content")
            out.append({"answer": step["action"]})
        elif op == "listen":
            async with client.listen(tools_list_changed=True, prompts_list_changed=step.get("prompts", False),
                                     resource_subscriptions=step.get("uris", ())) as sub:
                inner = []
                await run_steps(client, step.get("during", []), inner, answer, asked)
                events = []
                with anyio.move_on_after(step.get("wait", 10)):
                    async for event in sub:
                        uri = getattr(event, "uri", None)
                        events.append(type(event).__name__ + (f" {uri}" if uri else ""))
                        if len(events) >= step.get("count", 1):
                            break
                honored = sub.honored.model_dump(by_alias=True, exclude_none=True)
            out.append({"honored": honored, "during": inner, "events": events})
        elif op == "sleep":
            await asyncio.sleep(step["s"])
            out.append({"slept": step["s"]})


if __name__ == "__main__":
    vigil, config, mode, steps = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    try:
        result = asyncio.run(main(vigil, config, mode, steps))
    except BaseException as e:  # report, never hang the test
        result = {"failed": f"{type(e).__name__}: {e}"}
    print(json.dumps(result))
