import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import VigilMCP

/// `vigil mcp proxy --listen` on loopback, started by the test on a port the kernel picks.
final class ListeningGateway {
    let process = Process()
    let url: String
    let base: String

    init(config: URL, tls: (cert: String, key: String)? = nil) throws {
        process.executableURL = URL(fileURLWithPath: vigilBinary)
        process.arguments = ["mcp", "proxy", "--config", config.path, "--listen", "127.0.0.1:0", "--allow-origin", "http://127.0.0.1"]
            + (tls.map { ["--tls-cert", $0.cert, "--tls-key", $0.key] } ?? [])
        process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // The line "listening on URL" names the endpoint (lines before it may say what was read).
        let fd = err.fileHandleForReading.fileDescriptor
        var text = "", seen = ""
        while text.isEmpty || !text.contains("listening on") {
            var line = [UInt8]()
            var byte: UInt8 = 0
            var got = false
            while read(fd, &byte, 1) == 1 { got = true; if byte == 0x0A { break }; line.append(byte) }
            text = String(decoding: line, as: UTF8.self)
            seen += text + "\n"
            if !got { break }
        }
        guard text.contains("listening on"), let r = text.range(of: "https://") ?? text.range(of: "http://") else { throw GatewayTestFailure(reason: "gateway did not start: \(seen)") }
        url = String(text[r.lowerBound...])
        base = String(url.dropLast(4))
        // Keep draining stderr so the gateway never blocks on a full pipe.
        Thread { var sink = [UInt8](repeating: 0, count: 4096); while read(fd, &sink, 4096) > 0 {} }.start()
    }
    deinit { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
}

struct HTTPAnswer { var status: Int; var body: JSONValue?; var headers: [AnyHashable: Any] }

func post(_ url: String, token: String?, headers: [String: String] = [:], body: JSONValue?, method: String = "POST") async throws -> HTTPAnswer {
    var r = URLRequest(url: URL(string: url)!)
    r.httpMethod = method
    if let token { r.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    r.setValue("application/json", forHTTPHeaderField: "Content-Type")
    r.setValue("application/json, text/event-stream", forHTTPHeaderField: "Accept")
    for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
    if let body { r.httpBody = Data(body.canonical.utf8) }
    let (data, response) = try await URLSession.shared.data(for: r)
    let h = response as! HTTPURLResponse
    return HTTPAnswer(status: h.statusCode, body: data.isEmpty ? nil : try? JSONValue.parse(data), headers: h.allHeaderFields)
}

@Suite struct HTTPGatewayTests {
    @Test func theRealClientSpeaksBothErasOverStreamableHTTP() throws {
        try requireTools()
        let g = try GatewaySetup()
        try g.write(servers: timeServer, allow: #"{"server": "time", "tools": ["get_current_time"]}"#)
        let gw = try ListeningGateway(config: g.config)
        for mode in ["legacy", "2026-07-28"] {
            let steps = try g.drive(mode, [["op": "list"], ["op": "call", "tool": "get_current_time", "args": ["timezone": "UTC"]],
                                           ["op": "call", "tool": "convert_time", "args": ["source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"]]],
                                    target: gw.url)
            #expect(steps[0]["protocol"]?.string == (mode == "legacy" ? "2025-11-25" : "2026-07-28"))
            #expect(steps[1]["tools"] == ["get_current_time"])
            #expect(steps[2]["text"]?.string?.contains("\"timezone\": \"UTC\"") == true)
            #expect(steps[3]["error_code"] == .int(Int64(RPCMessage.Code.denied)))
        }
        #expect(try vigil("mcp", "audit", "verify", g.audit.path, "--key", g.publicKey).status == 0)
    }

    /// With a certificate the endpoint is HTTPS; the real client, trusting only the test's CA,
    /// speaks both eras through it.
    @Test func theRealClientSpeaksThroughHTTPS() throws {
        try requireTools()
        let g = try GatewaySetup()
        try g.write(servers: timeServer, allow: #"{"server": "time", "tools": ["get_current_time"]}"#)
        let key = g.dir.appendingPathComponent("tls.key").path, cert = g.dir.appendingPathComponent("tls.pem").path
        let made = try run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                                                 "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        try #require(made.status == 0, "openssl: \(made.err)")
        let gw = try ListeningGateway(config: g.config, tls: (cert, key))
        #expect(gw.url.hasPrefix("https://127.0.0.1:"))
        for mode in ["legacy", "2026-07-28"] {
            let steps = try g.drive(mode, [["op": "call", "tool": "get_current_time", "args": ["timezone": "UTC"]]], target: gw.url, ca: cert)
            #expect(steps[1]["text"]?.string?.contains("\"timezone\": \"UTC\"") == true, "\(mode): \(steps)")
        }
        // A client that does not trust the certificate does not get through.
        #expect(throws: (any Error).self) { _ = try g.drive("legacy", [["op": "list"]], target: gw.url) }
    }

    /// A tool marks arguments with `x-mcp-header`: the real client mirrors them into
    /// `Mcp-Param-*` headers and gets through; a request whose header disagrees with its body
    /// (what a router and the server would read differently) is refused with -32020.
    @Test func paramHeadersMustAgreeWithTheArguments() async throws {
        try requireTools()
        let g = try GatewaySetup()
        let server = packageRoot.appendingPathComponent("Tests/VigilMCPTests/Drivers/region_server.py").path
        try g.write(servers: #""regions": {"command": "\#(venv)/python", "args": ["\#(server)"]}"#, allow: #"{"server": "regions"}"#)
        let gw = try ListeningGateway(config: g.config)
        let steps = try g.drive("2026-07-28", [["op": "list"], ["op": "call", "tool": "deploy", "args": ["region": "eu-west", "replicas": 3]]], target: gw.url)
        #expect(steps[2]["text"]?.string?.contains("deployed 3 to eu-west") == true, "\(steps)")
        let meta: JSONValue = [Revision.Meta.protocolVersion: "2026-07-28", Revision.Meta.clientInfo: ["name": "t", "version": "1"], Revision.Meta.clientCapabilities: [:]]
        let call: JSONValue = ["jsonrpc": "2.0", "id": 9, "method": "tools/call",
                               "params": ["name": "deploy", "arguments": ["region": "eu-west", "replicas": 3], "_meta": meta]]
        let base = ["MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "deploy"]
        func code(_ extra: [String: String]) async throws -> (Int, JSONValue?) {
            let r = try await post(gw.url, token: g.token, headers: base.merging(extra) { $1 }, body: call)
            return (r.status, r.body?["error"]?["code"])
        }
        #expect(try await code(["Mcp-Param-Region": "eu-west", "Mcp-Param-Replicas": "3"]).0 == 200)
        #expect(try await code(["Mcp-Param-Region": "=?base64?" + Data("eu-west".utf8).base64EncodedString() + "?=", "Mcp-Param-Replicas": "3.0"]).0 == 200)
        let mismatch: JSONValue = .int(Int64(RPCMessage.Code.headerMismatch))
        for bad in [["Mcp-Param-Region": "us-east", "Mcp-Param-Replicas": "3"],      // routes one way, acts another
                    ["Mcp-Param-Replicas": "3"],                                     // missing
                    ["Mcp-Param-Region": "eu-west", "Mcp-Param-Replicas": "3.5"],   // not the integer
                    ["Mcp-Param-Region": "=?base64?%%%?=", "Mcp-Param-Replicas": "3"]] {
            let (status, c) = try await code(bad)
            #expect(status == 400 && c == mismatch, "\(bad) answered \(status)")
        }
    }

    @Test func theEndpointRefusesWhatTheSpecificationRefuses() async throws {
        try requireTools()
        let g = try GatewaySetup()
        let other = "vgt_other_" + UUID().uuidString
        try g.write(servers: timeServer, allow: #"{"server": "time"}"#)
        // Two agents: the test's and another.
        var text = try String(contentsOf: g.config, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"agents\": {", with: "\"agents\": {\"other\": {\"token_sha256\": \"\(Sodium.sha256Hex(other))\", \"allow\": [{\"server\": \"time\"}]}, ")
        try text.write(to: g.config, atomically: true, encoding: .utf8)
        let gw = try ListeningGateway(config: g.config)
        let meta: JSONValue = [Revision.Meta.protocolVersion: "2026-07-28", Revision.Meta.clientInfo: ["name": "t", "version": "1"], Revision.Meta.clientCapabilities: [:]]
        let call: JSONValue = ["jsonrpc": "2.0", "id": 7, "method": "tools/call",
                               "params": ["name": "get_current_time", "arguments": ["timezone": "UTC"], "_meta": meta]]
        let good = ["MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "get_current_time"]

        let noToken = try await post(gw.url, token: nil, headers: good, body: call)
        #expect(noToken.status == 401)
        #expect((noToken.headers["Www-Authenticate"] as? String ?? noToken.headers["WWW-Authenticate"] as? String ?? "").contains("resource_metadata="))
        #expect(try await post(gw.url, token: "vgt_wrong", headers: good, body: call).status == 401)
        let metadata = try await post(gw.base + "/.well-known/oauth-protected-resource", token: nil, body: nil, method: "GET")
        #expect(metadata.status == 200 && metadata.body?["resource"]?.string == gw.url)

        let ok = try await post(gw.url, token: g.token, headers: good, body: call)
        #expect(ok.status == 200 && ok.body?["id"] == 7 && ok.body?["result"]?["resultType"] == "complete")
        // Mirrored headers must match the body.
        var h = good; h["Mcp-Name"] = "convert_time"
        let wrongName = try await post(gw.url, token: g.token, headers: h, body: call)
        #expect(wrongName.status == 400 && wrongName.body?["error"]?["code"] == .int(Int64(RPCMessage.Code.headerMismatch)))
        h = good; h["Mcp-Name"] = "=?base64?" + Data("get_current_time".utf8).base64EncodedString() + "?="
        #expect(try await post(gw.url, token: g.token, headers: h, body: call).status == 200)
        h = good; h["Mcp-Method"] = "tools/list"
        #expect(try await post(gw.url, token: g.token, headers: h, body: call).body?["error"]?["code"] == .int(Int64(RPCMessage.Code.headerMismatch)))
        h = good; h["MCP-Protocol-Version"] = "2099-01-01"
        #expect(try await post(gw.url, token: g.token, headers: h, body: call).status == 400)
        var future = call.object!; var fp = future["params"]!.object!; var fm = meta.object!
        fm[Revision.Meta.protocolVersion] = "2099-01-01"; fp["_meta"] = .object(fm); future["params"] = .object(fp)
        h = good; h["MCP-Protocol-Version"] = "2099-01-01"
        let unsupported = try await post(gw.url, token: g.token, headers: h, body: .object(future))
        #expect(unsupported.status == 400 && unsupported.body?["error"]?["code"] == .int(Int64(RPCMessage.Code.unsupportedVersion)))
        // DNS rebinding: a foreign Origin is refused.
        h = good; h["Origin"] = "http://evil.example"
        #expect(try await post(gw.url, token: g.token, headers: h, body: call).status == 403)
        #expect(try await post(gw.url, token: g.token, body: nil, method: "GET").status == 405)

        // 2025-11-25 sessions belong to the agent that opened them.
        let initialize: JSONValue = ["jsonrpc": "2.0", "id": 1, "method": "initialize",
                                     "params": ["protocolVersion": "2025-11-25", "capabilities": [:], "clientInfo": ["name": "t", "version": "1"]]]
        let opened = try await post(gw.url, token: g.token, body: initialize)
        let sid = try #require(opened.headers["Mcp-Session-Id"] as? String ?? opened.headers.first { ($0.key as? String)?.lowercased() == "mcp-session-id" }?.value as? String)
        #expect(opened.body?["result"]?["protocolVersion"] == "2025-11-25")
        let list: JSONValue = ["jsonrpc": "2.0", "id": 2, "method": "tools/list"]
        #expect(try await post(gw.url, token: g.token, headers: ["Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"], body: list).status == 200)
        #expect(try await post(gw.url, token: other, headers: ["Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"], body: list).status == 404)
        #expect(try await post(gw.url, token: g.token, headers: ["MCP-Protocol-Version": "2025-11-25"], body: list).status == 400)
        #expect(try await post(gw.url, token: g.token, headers: ["Mcp-Session-Id": sid], body: nil, method: "DELETE").status == 204)
        #expect(try await post(gw.url, token: g.token, headers: ["Mcp-Session-Id": sid], body: list).status == 404)
    }
}

@Suite struct HTTPUpstreamTests {
    /// Upstreams over Streamable HTTP: mcp-server-time's server (both eras) and
    /// mcp-server-everything-wrong's (handshake era only, so the gateway falls back to initialize
    /// and keeps the server's session), each served by its own SDK on loopback.
    @Test(arguments: ["legacy", "2026-07-28"])
    func upstreamsOverHTTPInEitherEra(mode: String) throws {
        try requireTools()
        let httpDriver = packageRoot.appendingPathComponent("Tests/VigilMCPTests/Drivers/http_server.py").path
        let time = try LoopbackServer(venv + "/python", { [httpDriver, "time", String($0)] })
        let wrong = try LoopbackServer(wrongVenv + "/python", { [httpDriver, "wrong", String($0)] })
        let g = try GatewaySetup("http-upstream-\(mode)")
        try g.write(servers: """
            "htime": {"url": "http://127.0.0.1:\(time.port)/mcp", "headers": {"Authorization": "Bearer the-gateways-own-credential"}},
            "hwrong": {"url": "http://127.0.0.1:\(wrong.port)/mcp", "labels": ["untrusted"]}
            """, allow: #"{"server": "htime"}, {"server": "hwrong"}"#)
        let steps = try g.drive(mode, [["op": "list"], ["op": "call", "tool": "get_current_time", "args": ["timezone": "UTC"]],
                                       ["op": "call", "tool": "greet"], ["op": "call", "tool": "env_var"]])
        let tools = Set((steps[1]["tools"]?.array ?? []).compactMap { $0.string })
        #expect(tools.isSuperset(of: ["get_current_time", "convert_time", "greet", "env_var"]))
        #expect(tools.isDisjoint(with: ["joke_teller", "shadowing_attack", "echo"]))
        #expect(steps[2]["text"]?.string?.contains("\"timezone\": \"UTC\"") == true)
        #expect(steps[3]["text"] == "Hi there.")
        let env = steps[4]["text"]?.string ?? ""
        #expect(env.contains("PATH=") && !env.contains(g.token))
    }

    /// A session with an HTTP upstream keeps the server's own event stream open; while nothing
    /// moves, the gateway sleeps. (On Foundation's URLSession it spent 8.2 s of CPU in 10 s idle.)
    @Test func anIdleSessionWithAnHTTPUpstreamCostsNoCPU() throws {
        try requireTools()
        let httpDriver = packageRoot.appendingPathComponent("Tests/VigilMCPTests/Drivers/http_server.py").path
        let wrong = try LoopbackServer(wrongVenv + "/python", { [httpDriver, "wrong", String($0)] })
        let g = try GatewaySetup()
        try g.write(servers: #""hwrong": {"url": "http://127.0.0.1:\#(wrong.port)/mcp", "labels": ["untrusted"]}"#, allow: #"{"server": "hwrong"}"#)
        // The client spawns the gateway under bash's `time`, which writes its CPU seconds to a file.
        let cpuFile = g.dir.appendingPathComponent("cpu.txt").path
        let wrapper = g.dir.appendingPathComponent("timed-vigil.sh")
        try """
            #!/bin/bash
            TIMEFORMAT='%U %S'
            { time "\(vigilBinary)" "$@" 2>&3 ; } 3>&2 2>"\(cpuFile)"
            """.write(to: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper.path, 0o755)
        let steps = try g.driveSession("legacy", [["op": "list"], ["op": "sleep", "s": 6]], binary: wrapper.path).steps
        #expect((steps[1]["tools"]?.array ?? []).contains("greet"))
        let cpu = (try String(contentsOfFile: cpuFile, encoding: .utf8)).split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
        try #require(cpu.count == 2, "bash's time printed nothing")
        #expect(cpu[0] + cpu[1] < 1.5, "the gateway spent \(cpu[0] + cpu[1]) s of CPU over a 6 s idle session")
    }
}

@Suite struct RelistTests {
    /// A server whose tools change without a word: listing every upstream again on a timer
    /// finds the new tool (only the timer can: the server announces nothing).
    @Test func aChangeNobodyAnnouncedIsFoundByListingAgain() throws {
        try requireTools()
        let legacy = packageRoot.appendingPathComponent("Tests/VigilMCPTests/Drivers/legacy_changing_server.py").path
        let server = try LoopbackServer(wrongVenv + "/python", { [legacy, String($0), "--quiet"] })
        let g = try GatewaySetup()
        try g.write(servers: #""older": {"url": "http://127.0.0.1:\#(server.port)/mcp"}"#, allow: #"{"server": "older"}"#,
                    extra: #", "relist_seconds": 1"#)
        let steps = try g.drive("legacy", [["op": "call", "tool": "add_tool", "args": ["name": "quiet"]], ["op": "sleep", "s": 1.5],
                                           ["op": "list"], ["op": "sleep", "s": 1.0], ["op": "list"]])
        #expect(steps[1]["text"] == "added quiet")
        #expect(steps[5]["tools"] == ["add_tool", "quiet"], "\(steps)")
    }

    /// mcp-server-everything-wrong over HTTP announces its rug pull on its session's GET stream
    /// without having declared listChanged: the gateway hears it there, alerts the undeclared
    /// change, lists again and withdraws the changed tool.
    /// The session stream drops once (as a proxy's idle timeout cuts it); the gateway opens it
    /// again and hears the rug pull announced there, with relisting set to an hour.
    @Test func aSessionStreamThatDropsIsOpenedAgain() throws {
        try requireTools()
        let driver = packageRoot.appendingPathComponent("Tests/VigilMCPTests/Drivers/dropping_server.py").path
        let server = try LoopbackServer(venv + "/python", { [driver, String($0)] })
        let g = try GatewaySetup()
        try g.write(servers: #""drops": {"url": "http://127.0.0.1:\#(server.port)/mcp"}"#, allow: #"{"server": "drops", "tools": ["greet"]}"#,
                    extra: #", "relist_seconds": 3600"#)
        let steps = try g.drive("legacy", [["op": "list"], ["op": "call", "tool": "greet"], ["op": "sleep", "s": 3.5], ["op": "list"]])
        #expect(steps[1]["tools"] == ["greet"])
        #expect(steps[2]["text"] == "Hello.")
        #expect(steps[4]["tools"] == [], "\(steps[4])")
        #expect(g.auditEntries.contains { $0["finding"]?["kind"] == "rug-pull" })
        #expect(!g.auditEntries.contains { $0["finding"]?["kind"] == "undeclared-list-changed" })
    }

    @Test func aRugPullAnnouncedOnTheGETStreamIsCaught() throws {
        try requireTools()
        let httpDriver = packageRoot.appendingPathComponent("Tests/VigilMCPTests/Drivers/http_server.py").path
        let wrong = try LoopbackServer(wrongVenv + "/python", { [httpDriver, "wrong", String($0)] })
        let g = try GatewaySetup()
        try g.write(servers: #""hwrong": {"url": "http://127.0.0.1:\#(wrong.port)/mcp"}"#, allow: #"{"server": "hwrong", "tools": ["greet"]}"#,
                    extra: #", "relist_seconds": 3600"#)
        let steps = try g.drive("legacy", [["op": "list"], ["op": "call", "tool": "greet"], ["op": "sleep", "s": 1.5],
                                           ["op": "list"], ["op": "sleep", "s": 1.0], ["op": "list"], ["op": "call", "tool": "greet"]])
        #expect(steps[1]["tools"] == ["greet"])
        #expect(steps[2]["text"] == "Hi there.")
        #expect(steps[6]["tools"] == [])
        #expect(steps[7]["error_code"] == .int(Int64(RPCMessage.Code.denied)))
        #expect(g.auditEntries.contains { $0["finding"]?["kind"] == "rug-pull" })
        #expect(g.auditEntries.contains { $0["finding"]?["kind"] == "undeclared-list-changed" })
    }
}
