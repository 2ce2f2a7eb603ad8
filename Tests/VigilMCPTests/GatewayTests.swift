import Foundation
import Testing
import VigilMCP

/// The real `mcp` client from PyPI, through `vigil mcp proxy`, to real servers from PyPI.
@Suite struct GatewayTests {
    let denied = JSONValue.int(Int64(RPCMessage.Code.denied))
    let held = JSONValue.int(Int64(RPCMessage.Code.heldForApproval))

    @Test(arguments: ["legacy", "2026-07-28"])
    func anAllowedCallPassesThroughInBothProtocolEras(mode: String) throws {
        try requireTools()
        let g = try GatewaySetup("allowed-\(mode)")
        try g.write(servers: timeServer, allow: #"{"server": "time", "tools": ["get_current_time"]}"#)
        let steps = try g.drive(mode, [["op": "list"], ["op": "call", "tool": "get_current_time", "args": ["timezone": "UTC"]],
                                       ["op": "call", "tool": "convert_time", "args": ["source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"]]])
        #expect(steps[0]["protocol"]?.string == (mode == "legacy" ? "2025-11-25" : "2026-07-28"))
        // Least privilege: the tool the policy does not name is neither listed nor callable.
        #expect(steps[1]["tools"] == ["get_current_time"])
        #expect(steps[2]["text"]?.string?.contains("\"timezone\": \"UTC\"") == true)
        #expect(steps[2]["is_error"] == false)
        #expect(steps[3]["error_code"] == denied)
        let entries = g.auditEntries
        #expect(entries.contains { $0["event"] == "call" && $0["tool"] == "get_current_time" && $0["decision"] == "allow" && $0["outcome"] == "ok" })
        // Arguments are kept as their shape (for the agent learner), never as their values.
        #expect(entries.contains { $0["event"] == "call" && $0["shape"]?["timezone"] == "text:1-8" })
        #expect(!entries.contains { $0.canonical.contains("Asia/Tokyo") })
        #expect(entries.contains { $0["event"] == "call" && $0["tool"] == "convert_time" && $0["decision"] == "deny" })
        let v = try vigil("mcp", "audit", "verify", g.audit.path, "--key", g.publicKey)
        #expect(v.status == 0, "\(v.out)")
    }

    @Test(arguments: ["legacy", "2026-07-28"])
    func theHostileServerIsContained(mode: String) throws {
        try requireTools()
        let g = try GatewaySetup("hostile-\(mode)")
        try g.write(servers: wrongServer, allow: #"{"server": "wrong", "tools": ["*"]}"#)
        let steps = try g.drive(mode, [["op": "list"], ["op": "call", "tool": "greet"], ["op": "sleep", "s": 0.5], ["op": "list"],
                                       ["op": "call", "tool": "greet"], ["op": "call", "tool": "env_var"],
                                       ["op": "call", "tool": "joke_teller"]])
        let first = Set((steps[1]["tools"]?.array ?? []).compactMap { $0.string })
        // Hidden instructions in descriptions: joke_teller, shadowing_attack and echo's debug field.
        #expect(!first.contains("joke_teller") && !first.contains("shadowing_attack") && !first.contains("echo"))
        #expect(first.contains("greet") && first.contains("env_var"))
        #expect(steps[2]["text"] == "Hi there.")
        // The rug pull: greet's description changes after its first call; it is withdrawn.
        #expect(!(steps[4]["tools"]?.array?.contains("greet") ?? true))
        #expect(steps[5]["error_code"] == denied)
        // The agent's token never reaches an upstream server.
        let env = steps[6]["text"]?.string ?? ""
        #expect(env.contains("PATH=") && !env.contains(g.token) && !env.contains("VIGIL_AGENT_TOKEN"))
        #expect(steps[7]["error_code"] == denied)
        let kinds = Set(g.auditEntries.compactMap { $0["finding"]?["kind"]?.string })
        #expect(kinds.isSuperset(of: ["hidden-instruction", "invisible-text", "rug-pull", "undeclared-list-changed"]))
    }

    @Test func aWrongTokenOrABrokenPolicyStopsTheGatewayBeforeAnyServerStarts() throws {
        try requireTools()
        let g = try GatewaySetup()
        try g.write(servers: timeServer, allow: #"{"server": "time"}"#)
        #expect(throws: GatewayTestFailure.self) { try g.drive("legacy", [["op": "list"]], token: "vgt_wrong") }
        try "{\"servers\": {".write(to: g.config, atomically: true, encoding: .utf8)
        let r = try run(vigilBinary, ["mcp", "proxy", "--config", g.config.path], env: ["VIGIL_AGENT_TOKEN": g.token])
        #expect(r.status == 1 && r.err.contains("gateway.json"))
    }

    @Test func aLockfilePinsToolsAndATamperedOneFailsClosed() throws {
        try requireTools()
        let g = try GatewaySetup()
        try g.write(servers: timeServer + "," + wrongServer, allow: #"{"server": "time"}, {"server": "wrong", "tools": ["greet", "env_var"]}"#)
        // Pin only the time server's tools; the hostile server's tools are then unpinned.
        let timeOnly = g.dir.appendingPathComponent("time.json")
        try "{\"servers\": {\(timeServer)}}".write(to: timeOnly, atomically: true, encoding: .utf8)
        let lockPath = g.dir.appendingPathComponent("vigil-mcp.lock").path
        let l = try vigil("mcp", "lock", timeOnly.path, "--key", g.secretKey, "--out", lockPath)
        try #require(l.status == 0, "\(l.out)\(l.err)")
        let pub = try String(contentsOfFile: g.publicKey, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try g.write(servers: timeServer + "," + wrongServer, allow: #"{"server": "time"}, {"server": "wrong", "tools": ["greet", "env_var"]}"#,
                    extra: #", "lockfile": "vigil-mcp.lock", "trusted_keys": ["\#(pub)"]"#)
        let steps = try g.drive("legacy", [["op": "list"]])
        #expect(steps[1]["tools"] == ["convert_time", "get_current_time"])
        #expect(g.auditEntries.contains { $0["finding"]?["kind"] == "unpinned-tool" })
        // Edit one pin's hash: the signature no longer matches and the gateway refuses to start.
        var text = try String(contentsOfFile: lockPath, encoding: .utf8)
        let firstHash = try #require(try Lockfile.parse(text, file: lockPath).pins.first?.sha256)
        text = text.replacingOccurrences(of: firstHash, with: String(firstHash.reversed()))
        try text.write(toFile: lockPath, atomically: true, encoding: .utf8)
        let r = try run(vigilBinary, ["mcp", "proxy", "--config", g.config.path], env: ["VIGIL_AGENT_TOKEN": g.token])
        #expect(r.status == 1 && r.err.contains("signature"))
    }

    @Test func aNamedToolWaitsForAPersonAndTheApprovedCallGoesThrough() throws {
        try requireTools()
        let g = try GatewaySetup()
        try g.write(servers: timeServer, allow: #"{"server": "time"}"#, agentExtra: #", "approval": ["convert_time"]"#)
        let call: JSONValue = ["op": "call", "tool": "convert_time", "args": ["source_timezone": "UTC", "time": "09:30", "target_timezone": "Europe/Paris"]]
        let first = try g.drive("legacy", [call])
        #expect(first[1]["error_code"] == held)
        let key = try #require(first[1]["data"]?["approval"]?.string)
        let dir = g.dir.appendingPathComponent("approvals").path
        let listed = try vigil("mcp", "approvals", "--dir", dir)
        #expect(listed.out.contains(String(key.prefix(16))) && listed.out.contains("convert_time"))
        #expect(try vigil("mcp", "approve", String(key.prefix(12)), "--dir", dir).status == 0)
        let after = try g.drive("legacy", [call, ["op": "call", "tool": "convert_time", "args": ["source_timezone": "UTC", "time": "10:00", "target_timezone": "Europe/Paris"]]])
        #expect(after[1]["text"]?.string?.contains("Europe/Paris") == true)
        // Approval covers that exact call, not the tool.
        #expect(after[2]["error_code"] == held)
    }

    @Test func theAuditLogContinuesAcrossSessionsAndAnEditIsFound() throws {
        try requireTools()
        let g = try GatewaySetup()
        try g.write(servers: timeServer, allow: #"{"server": "time"}"#)
        _ = try g.drive("legacy", [["op": "call", "tool": "get_current_time", "args": ["timezone": "UTC"]]])
        _ = try g.drive("2026-07-28", [["op": "call", "tool": "get_current_time", "args": ["timezone": "UTC"]]])
        let ok = try vigil("mcp", "audit", "verify", g.audit.path, "--key", g.publicKey)
        #expect(ok.status == 0 && ok.out.contains("chain intact"))
        var lines = try String(contentsOf: g.audit, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.contains("\"event\":\"session\"") }.count == 2)
        let i = try #require(lines.firstIndex { $0.contains("\"decision\":\"allow\"") })
        lines[i] = lines[i].replacingOccurrences(of: "\"decision\":\"allow\"", with: "\"decision\":\"deny\"")
        try (lines.joined(separator: "\n") + "\n").write(to: g.audit, atomically: true, encoding: .utf8)
        let bad = try vigil("mcp", "audit", "verify", g.audit.path, "--key", g.publicKey)
        #expect(bad.status == 2 && bad.out.contains("line \(i + 1):"))
    }
}
