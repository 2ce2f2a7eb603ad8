import Foundation
import Testing
import VigilMCP

/// A server from the PyPI SDK whose tools change while a session runs and that asks questions
/// mid-call (Drivers/changing_server.py).
let changingServer = #""changing": {"command": "\#(venv)/python", "args": ["\#(packageRoot.appendingPathComponent("Tests/VigilMCPTests/Drivers/changing_server.py").path)"]}"#

/// 2026-07-28 subscriptions and `input_required` rounds, through the gateway, with the real
/// client and a real server, over stdio and Streamable HTTP.
@Suite(.serialized) struct ListenAndInputTests {
    /// A modern client subscribes to tool list changes; the server adds a tool mid-session; the
    /// gateway hears it on its own subscription upstream, lists again, checks the new tool, and
    /// tells the client on its subscription; the client lists again and sees it. An older client
    /// hears the same change as a notification (on HTTP, over the session's GET stream).
    @Test(arguments: ["stdio", "http"]) func toolChangesReachSubscribers(transport: String) throws {
        try requireTools()
        let g = try GatewaySetup("toolChanges-\(transport)")
        try g.write(servers: changingServer, allow: #"{"server": "changing"}"#)
        let gw = transport == "http" ? try ListeningGateway(config: g.config) : nil
        let added = "added_\(transport)", older = "older_\(transport)"
        let steps = try g.drive("2026-07-28", [
            ["op": "list"],
            ["op": "listen", "during": [["op": "call", "tool": "add_tool", "args": ["name": .string(added)]]], "wait": 15],
            ["op": "list"],
        ], target: gw?.url)
        #expect(steps[1]["tools"]?.array?.contains(.string(added)) == false)
        #expect(steps[2]["honored"] == ["toolsListChanged": true], "\(steps[2])")
        #expect(steps[2]["during"]?.array?.first?["text"]?.string == "added \(added)", "\(steps[2])")
        #expect(steps[2]["events"] == ["ToolsListChanged"], "the subscriber was not told: \(steps[2])")
        #expect(steps[3]["tools"]?.array?.contains(.string(added)) == true, "\(steps[3])")

        let earlier = try g.driveSession("legacy", [
            ["op": "call", "tool": "add_tool", "args": ["name": .string(older)]],
            ["op": "sleep", "s": 2],
            ["op": "list"],
        ], target: gw?.url)
        #expect(earlier.steps[3]["tools"]?.array?.contains(.string(older)) == true, "\(earlier.steps)")
        #expect(earlier.notified.contains("tools/list_changed"), "the older client heard no change: \(earlier.notified)")
        // The gateway heard the changes on its own subscription upstream (a change sent outside
        // one would be an alert).
        let alerts = g.auditEntries.filter { $0["event"]?.string == "alert" }.map { $0["finding"]?["kind"]?.string ?? "" }
        #expect(!alerts.contains("undeclared-list-changed"), "\(alerts)")
    }

    /// A 2025-11-25 server over HTTP can announce a changed tool list only on its session's GET
    /// stream: the gateway opens it and hears the change at once (relisting is set to an hour
    /// here, so only the stream can explain the new tool).
    @Test func anOlderServersAnnouncementOnItsGETStreamIsHeard() throws {
        try requireTools()
        let legacy = packageRoot.appendingPathComponent("Tests/VigilMCPTests/Drivers/legacy_changing_server.py").path
        let server = try LoopbackServer(wrongVenv + "/python", { [legacy, String($0)] })
        let g = try GatewaySetup()
        try g.write(servers: #""older": {"url": "http://127.0.0.1:\#(server.port)/mcp"}"#, allow: #"{"server": "older"}"#,
                    extra: #", "relist_seconds": 3600"#)
        let steps = try g.drive("2026-07-28", [
            ["op": "list"],
            ["op": "call", "tool": "add_tool", "args": ["name": "announced"]],
            ["op": "sleep", "s": 2],
            ["op": "list"],
            ["op": "call", "tool": "announced"],
        ])
        #expect(steps[1]["tools"] == ["add_tool"], "\(steps)")
        #expect(steps[4]["tools"] == ["add_tool", "announced"], "the announcement was not heard: \(steps)")
        #expect(steps[5]["text"]?.string == "added tool ran", "\(steps)")
        let alerts = g.auditEntries.filter { $0["event"]?.string == "alert" }.map { $0["finding"]?["kind"]?.string ?? "" }
        #expect(!alerts.contains("undeclared-list-changed"), "\(alerts)")
    }

    /// A server asks the user to confirm mid-call: the question reaches the client, the answer
    /// goes back with the server's state, and the call completes. Sampling (a prompt for the
    /// model) is refused unless the agent's policy allows it; a question carrying hidden
    /// instructions is withheld; an older client is told it cannot answer.
    @Test(arguments: ["stdio", "http"]) func questionsMidCallAreRelayedUnderPolicy(transport: String) throws {
        try requireTools()
        let g = try GatewaySetup("questions-\(transport)")
        try g.write(servers: changingServer, allow: #"{"server": "changing"}"#)
        let gw = transport == "http" ? try ListeningGateway(config: g.config) : nil
        let steps = try g.drive("2026-07-28", [
            ["op": "answer", "action": "accept", "content": ["confirm": true]],
            ["op": "call", "tool": "delete_branch", "args": ["branch": "feature"]],
            ["op": "answer", "action": "decline"],
            ["op": "call", "tool": "delete_branch", "args": ["branch": "main"]],
            ["op": "call", "tool": "summarize", "args": ["topic": "the repo"]],
            ["op": "call", "tool": "survey", "args": ["x": "1"]],
        ], target: gw?.url)
        #expect(steps[2]["text"]?.string == "deleted feature", "\(steps[2])")
        #expect(steps[2]["asked"] == ["Delete branch feature?"])
        #expect(steps[4]["text"]?.string == "kept main", "\(steps[4])")
        #expect(steps[5]["error_code"]?.int == Int64(RPCMessage.Code.denied), "\(steps[5])")
        #expect(steps[5]["error"]?.string?.contains("sampling") == true, "\(steps[5])")
        #expect(steps[6]["error_code"]?.int == Int64(RPCMessage.Code.denied), "\(steps[6])")
        #expect(steps[6]["asked"] == [], "a question with hidden instructions reached the user: \(steps[6])")

        let older = try g.drive("legacy", [["op": "call", "tool": "delete_branch", "args": ["branch": "x"]]], target: gw?.url)
        #expect(older[1]["error"]?.string?.contains("cannot give") == true, "\(older)")

        let calls = g.auditEntries.filter { $0["event"]?.string == "call" && $0["tool"]?.string != nil }
        #expect(calls.contains { $0["outcome"]?.string == "input-required" && $0["input"] == ["elicitation"] })
        #expect(calls.contains { $0["outcome"]?.string == "refused" && $0["tool"]?.string == "summarize" })
        let alerts = g.auditEntries.filter { $0["event"]?.string == "alert" }
        #expect(alerts.contains { $0["finding"]?["channel"]?.string == "input-request" && $0["finding"]?["kind"]?.string == "hidden-instruction" })

        // With sampling allowed for the agent, the prompt reaches the client (which has no model
        // here and declines: the SDK answers a sampling request it cannot serve with an error).
        try g.write(servers: changingServer, allow: #"{"server": "changing"}"#, agentExtra: #", "input": ["elicitation", "sampling"]"#)
        let gw2 = transport == "http" ? try ListeningGateway(config: g.config) : nil
        let allowed = try g.drive("2026-07-28", [["op": "call", "tool": "summarize", "args": ["topic": "the repo"]]], target: gw2?.url)
        #expect(allowed[1]["error"]?.string?.contains("policy does not allow") != true, "\(allowed)")
    }

    /// The server's state is opaque and the client is not trusted with forging it: a retry the
    /// gateway did not issue, or the same retry twice, is refused before it reaches the server.
    @Test func aRetryMustBringBackWhatTheServerIssuedOnce() async throws {
        try requireTools()
        let g = try GatewaySetup()
        try g.write(servers: changingServer, allow: #"{"server": "changing"}"#)
        let gw = try ListeningGateway(config: g.config)
        let meta: JSONValue = [Revision.Meta.protocolVersion: "2026-07-28", Revision.Meta.clientInfo: ["name": "t", "version": "1"],
                               Revision.Meta.clientCapabilities: ["elicitation": ["form": [:]]]]
        let headers = ["MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "delete_branch"]
        func call(_ extra: [String: JSONValue]) async throws -> JSONValue? {
            var p: [String: JSONValue] = ["name": "delete_branch", "arguments": ["branch": "main"], "_meta": meta]
            p.merge(extra) { $1 }
            return try await post(gw.url, token: g.token, headers: headers, body: ["jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": .object(p)]).body
        }
        let yes: JSONValue = ["confirm": ["action": "accept", "content": ["confirm": true]]]
        let forged = try await call(["inputResponses": yes, "requestState": "delete:main"])
        #expect(forged?["error"]?["code"]?.int == Int64(RPCMessage.Code.denied), "\(String(describing: forged))")
        #expect(forged?["error"]?["message"]?.string?.contains("did not ask for") == true)

        let first = try await call([:])
        #expect(first?["result"]?["resultType"]?.string == "input_required", "\(String(describing: first))")
        let state = try #require(first?["result"]?["requestState"])
        let wrongKey = try await call(["inputResponses": ["other": yes["confirm"]!], "requestState": state])
        #expect(wrongKey?["error"]?["code"]?.int == Int64(RPCMessage.Code.denied), "an answer to a question not asked got through")
        let done = try await call(["inputResponses": yes, "requestState": state])
        #expect(done?["result"]?["content"]?.array?.first?["text"]?.string == "deleted main", "\(String(describing: done))")
        let again = try await call(["inputResponses": yes, "requestState": state])
        #expect(again?["error"]?["code"]?.int == Int64(RPCMessage.Code.denied), "a replayed round got through: \(String(describing: again))")
    }
}
