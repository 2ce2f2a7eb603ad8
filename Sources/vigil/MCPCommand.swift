import Foundation
import VigilCore
import VigilMCP
import VigilMCPTransport
import VigilSim

/// `vigil mcp ...`: the gateway for AI agents that use MCP, and the tools around it.
enum MCPCommand {
    static let usage = """
    usage: vigil mcp <command>
      proxy --config FILE            run the gateway over stdio for the agent whose token is in
                                     VIGIL_AGENT_TOKEN (or --token-file F)
      proxy --config FILE --listen ADDR:PORT [--allow-origin O,...] [--tls-cert PEM --tls-key PEM]
                                     serve it as a Streamable HTTP endpoint at /mcp; each agent
                                     sends its token as a bearer token (or an OAuth access token)
      proxy --config FILE --check    check the policy, lockfile, audit key and issuer keys, and exit
      scan CONFIG... [--lockfile F --trusted-key PUB] [--json F] [--sarif F] [--no-sandbox]
                                     start each server a client config names (Claude Desktop, VS Code,
                                     Cursor, or the gateway's), list its tools, check them; exit 2 on
                                     findings of medium or worse
      lock CONFIG... --key SECRET --out FILE
                                     pin the tools those servers offer now, signed
      keygen --out PREFIX            write PREFIX.key (secret, 0600) and PREFIX.pub
      token                          print a new agent token and the token_sha256 for the config
      approvals --dir DIR            list calls waiting for a person
      approve KEY --dir DIR          approve a held call (a unique prefix of its key is enough)
      audit verify LOG --key PUB     check the audit log's hash chain and signatures
      simulate --out LOG --key SECRET [--days D] [--seed S] [--no-intrusion]
                                     write the signed audit log of a simulated coding agent's
                                     weeks (and a night intrusion) for 'vigil analyze --agents'
      check [FILE] [--channel C]     run the content checks on text (a file, or stdin); with
                                     --jsonl, each line is {"id", "text"[, "channel"]} and each
                                     verdict is printed as a JSON line
    """

    static func run(_ args: ArraySlice<String>) throws -> Int32 {
        guard let sub = args.first else { err(usage); return 1 }
        let rest = args.dropFirst()
        do {
            switch sub {
            case "proxy": return try proxy(rest)
            case "scan": return try scan(rest)
            case "lock": return try lock(rest)
            case "keygen": return try keygen(rest)
            case "token": return token()
            case "approvals": return try approvals(rest)
            case "approve": return try approve(rest)
            case "audit": return try audit(rest)
            case "check": return try check(rest)
            case "simulate": return try simulate(rest)
            default: err("vigil mcp: unknown command '\(sub)'\n\n" + usage); return 1
            }
        } catch let e as MCPError {
            err("vigil mcp: \(e)")
            return 1
        }
    }

    static func readConfig(_ path: String) throws -> GatewayConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw MCPError.policy("cannot read the configuration", place: path)
        }
        let dir = (path as NSString).deletingLastPathComponent
        do { return try GatewayConfig.parse(text, directory: dir.isEmpty ? "." : dir) } catch let e as MCPError {
            throw MCPError.policy(e.message, place: "\(path): \(e.place ?? "")")
        }
    }

    static func proxy(_ args: ArraySlice<String>) throws -> Int32 {
        let a = try Arguments(args, flags: ["check"])
        try a.allowOnly(["config", "token-file", "listen", "allow-origin", "tls-cert", "tls-key"])
        guard let path = a.options["config"] else { throw VigilError.usage("proxy needs --config FILE") }
        let config = try readConfig(path)
        if a.flags.contains("check") {
            for line in try GatewayCheck.run(config) { print(line) }
            print("\(path): the gateway would start")
            return 0
        }
        if let listen = a.options["listen"] {
            var o = HTTPGateway.Options()
            let parts = listen.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let port = UInt16(parts[1]) else { throw VigilError.usage("--listen takes ADDRESS:PORT, for example 127.0.0.1:8808") }
            o.address = String(parts[0]); o.port = port
            o.allowedOrigins = a.options["allow-origin"].map { $0.split(separator: ",").map(String.init) } ?? []
            switch (a.options["tls-cert"], a.options["tls-key"]) {
            case (nil, nil): break
            case (let cert?, let key?):
                guard let c = try? String(contentsOfFile: cert, encoding: .utf8) else { throw VigilError.usage("--tls-cert: cannot read '\(cert)'") }
                guard let k = try? String(contentsOfFile: key, encoding: .utf8) else { throw VigilError.usage("--tls-key: cannot read '\(key)'") }
                o.tlsCertificate = c; o.tlsKey = k
            default: throw VigilError.usage("HTTPS needs both --tls-cert and --tls-key")
            }
            return try HTTPGateway(config: config, options: o).run()
        }
        var token = ProcessInfo.processInfo.environment["VIGIL_AGENT_TOKEN"] ?? ""
        if let f = a.options["token-file"] {
            guard let t = try? String(contentsOfFile: f, encoding: .utf8) else { throw MCPError.policy("cannot read", place: f) }
            token = t.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard !token.isEmpty else { throw MCPError.policy("no agent token: set VIGIL_AGENT_TOKEN or pass --token-file", place: "proxy") }
        return try StdioGateway(config: config, token: token).run()
    }

    static func servers(from files: [String]) throws -> [ClientConfig.Entry] {
        var out: [ClientConfig.Entry] = []
        for f in files {
            guard let text = try? String(contentsOfFile: f, encoding: .utf8) else { throw MCPError.invalid("cannot read", place: f) }
            out += try ClientConfig.parse(text, file: f)
        }
        return out
    }

    static func scan(_ args: ArraySlice<String>) throws -> Int32 {
        let a = try Arguments(args, flags: ["no-sandbox"])
        try a.allowOnly(["lockfile", "trusted-key", "json", "sarif"])
        guard !a.positional.isEmpty else { throw VigilError.usage("scan needs at least one client configuration file") }
        var lockfile: Lockfile?
        if let path = a.options["lockfile"] {
            guard let keyPath = a.options["trusted-key"] else { throw VigilError.usage("--lockfile needs --trusted-key PUB to check its signature") }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw MCPError.lockfile("cannot read", place: path) }
            let l = try Lockfile.parse(text, file: path)
            try l.verify(trustedKeys: [Sodium.base64(try KeyFile.readPublic(keyPath))], file: path)
            lockfile = l
        }
        var results: [ToolScan.Result] = []
        var serverRows: [JSONValue] = []
        var descriptions: [JSONValue] = []
        for entry in try servers(from: a.positional) {
            if let why = entry.skipped {
                print("\(entry.server.name): skipped (\(why))")
                serverRows.append(["server": .string(entry.server.name), "skipped": .string(why)])
                continue
            }
            do {
                let listing = try ToolLister.list(entry.server, sandbox: !a.flags.contains("no-sandbox"))
                let found = ToolScan.check(server: listing.server, tools: listing.tools, lockfile: lockfile)
                    + ToolScan.check(server: listing.server, prompts: listing.prompts, resources: listing.resources, templates: listing.templates, lockfile: lockfile)
                results += found
                for t in listing.tools {
                    descriptions.append(["server": .string(listing.server), "tool": t["name"] ?? .null, "text": .string(InjectionCheck.text(of: Lockfile.pinnedDefinition(t)))])
                }
                let context = [(listing.prompts.count, "prompt"), (listing.resources.count, "resource"), (listing.templates.count, "resource template")]
                    .filter { $0.0 > 0 }.map { ", \($0.0) \($0.1)\($0.0 == 1 ? "" : "s")" }.joined()
                print("\(listing.server): \(listing.tools.count) tools\(context), protocol \(listing.revision)\(listing.sandboxed ? ", no network" : entry.server.url != nil ? ", remote" : ""), \(found.count) finding(s)")
                serverRows.append(["server": .string(listing.server), "protocol": .string(listing.revision),
                                   "tools": .array(listing.tools.compactMap { $0["name"] }), "sandboxed": .bool(listing.sandboxed),
                                   "prompts": .array(listing.prompts.compactMap { $0["name"] }),
                                   "resources": .array(listing.resources.compactMap { $0["uri"] } + listing.templates.compactMap { $0["uriTemplate"] })])
            } catch let e as MCPError {
                let f = Finding(.protocolViolation, .medium, channel: "startup", "could not list tools: \(e.message)")
                results.append(ToolScan.Result(server: entry.server.name, tool: nil, finding: f))
                print("\(entry.server.name): \(f.detail)")
                serverRows.append(["server": .string(entry.server.name), "error": .string(e.message)])
            }
        }
        for r in results.sorted(by: { $0.finding.severity > $1.finding.severity }) {
            print("  \(r.finding.severity.name.uppercased()) \(r.finding.kind.rawValue) \(r.server)/\(r.tool ?? "-"): \(r.finding.detail)")
        }
        if let j = a.options["json"] {
            let doc: JSONValue = ["servers": .array(serverRows), "descriptions": .array(descriptions),
                                  "findings": .array(results.map { r in
                                      var o = r.finding.json.object ?? [:]
                                      o["server"] = .string(r.server); if let t = r.tool { o["tool"] = .string(t) }
                                      return .object(o) })]
            try Data((doc.canonical + "\n").utf8).write(to: URL(fileURLWithPath: j))
        }
        if let s = a.options["sarif"] {
            try Data((ToolScan.sarif(results, configFiles: a.positional).canonical + "\n").utf8).write(to: URL(fileURLWithPath: s))
        }
        let failing = results.filter { $0.finding.severity >= .medium }.count
        print(failing == 0 ? "scan: clean" : "scan: \(failing) finding(s) of medium or worse")
        return failing == 0 ? 0 : 2
    }

    static func lock(_ args: ArraySlice<String>) throws -> Int32 {
        let a = try Arguments(args, flags: ["no-sandbox"])
        try a.allowOnly(["key", "out"])
        guard let keyPath = a.options["key"], let out = a.options["out"], !a.positional.isEmpty else {
            throw VigilError.usage("lock needs CONFIG... --key SECRET --out FILE")
        }
        let key = try KeyFile.readSecret(keyPath)
        var pins: [Lockfile.Pin] = []
        for entry in try servers(from: a.positional) where entry.skipped == nil {
            let listing = try ToolLister.list(entry.server, sandbox: !a.flags.contains("no-sandbox"))
            for t in listing.tools { if let name = t["name"]?.string { pins.append(.init(server: listing.server, key: name, listed: t)) } }
            for p in listing.prompts {
                if let name = p["name"]?.string { pins.append(.init(server: listing.server, key: Lockfile.promptKey(name), listed: p)) }
            }
            print("\(listing.server): pinned \(listing.tools.count) tools\(listing.prompts.isEmpty ? "" : " and \(listing.prompts.count) prompts")")
        }
        var lock = Lockfile(pins: pins)
        try lock.sign(secretKey: key)
        try Data((lock.json.canonical + "\n").utf8).write(to: URL(fileURLWithPath: out))
        print("wrote \(out): \(pins.count) pins, signed by \(lock.signedBy ?? "")")
        return 0
    }

    static func keygen(_ args: ArraySlice<String>) throws -> Int32 {
        let a = try Arguments(args, flags: [])
        try a.allowOnly(["out"])
        guard let prefix = a.options["out"] else { throw VigilError.usage("keygen needs --out PREFIX") }
        let pair = try Sodium.generateKeyPair()
        try KeyFile.write(pair, prefix: prefix)
        print("wrote \(prefix).key (secret) and \(prefix).pub: \(Sodium.base64(pair.publicKey))")
        return 0
    }

    static func token() -> Int32 {
        let t = "vgt_" + Sodium.hex(Sodium.random(24))
        print("token:        \(t)")
        print("token_sha256: \(Sodium.sha256Hex(t))")
        return 0
    }

    static func approvals(_ args: ArraySlice<String>) throws -> Int32 {
        let a = try Arguments(args, flags: [])
        try a.allowOnly(["dir"])
        guard let dir = a.options["dir"] else { throw VigilError.usage("approvals needs --dir DIR") }
        for (key, call) in ApprovalDirectory(path: dir).waiting() {
            print("\(key.prefix(16))  \(call["agent"]?.string ?? "?") -> \(call["server"]?.string ?? "?")/\(call["tool"]?.string ?? "?")  \((call["arguments"] ?? .null).canonical.prefix(200))")
        }
        return 0
    }

    static func approve(_ args: ArraySlice<String>) throws -> Int32 {
        let a = try Arguments(args, flags: [])
        try a.allowOnly(["dir"])
        guard let dir = a.options["dir"], let prefix = a.positional.first, prefix.count >= 8 else {
            throw VigilError.usage("approve needs KEY (at least 8 characters) --dir DIR")
        }
        let key = try ApprovalDirectory(path: dir).approve(prefix: prefix)
        print("approved \(key): the agent's next identical call goes through")
        return 0
    }

    static func check(_ args: ArraySlice<String>) throws -> Int32 {
        let a = try Arguments(args, flags: ["jsonl"])
        try a.allowOnly(["channel"])
        let data: Data
        if let f = a.positional.first, f != "-" {
            guard let d = FileManager.default.contents(atPath: f) else { throw MCPError.invalid("cannot read", place: f) }
            data = d
        } else {
            data = FileHandle.standardInput.readDataToEndOfFile()
        }
        let injection = InjectionCheck(), leaks = LeakCheck()
        func verdict(_ text: String, channel: String) -> [Finding] {
            injection.check(text, channel: channel) + (channel == "arguments" ? leaks.check(text, channel: channel) : [])
        }
        let defaultChannel = a.options["channel"] ?? "tool-result"
        guard a.flags.contains("jsonl") else {
            let found = verdict(String(decoding: data, as: UTF8.self), channel: defaultChannel)
            for f in found { print("\(f.severity.name.uppercased()) \(f.kind.rawValue): \(f.detail)") }
            return found.contains { $0.severity >= .medium } ? 2 : 0
        }
        var any = false
        for (n, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() {
            guard let v = try? JSONValue.parse(String(line)), let text = v["text"]?.string else {
                throw MCPError.invalid("not a JSON object with a text field", place: "line \(n + 1)")
            }
            let found = verdict(text, channel: v["channel"]?.string ?? defaultChannel)
            let flagged = found.contains { $0.severity >= .medium }
            any = any || flagged
            let out: JSONValue = ["id": v["id"] ?? .int(Int64(n + 1)), "flagged": .bool(flagged), "findings": .array(found.map(\.json))]
            print(out.canonical)
        }
        return any ? 2 : 0
    }

    static func simulate(_ args: ArraySlice<String>) throws -> Int32 {
        let a = try Arguments(args, flags: ["no-intrusion"])
        try a.allowOnly(["out", "key", "days", "seed"])
        guard let out = a.options["out"], let keyPath = a.options["key"] else { throw VigilError.usage("simulate needs --out LOG --key SECRET") }
        var w = AgentWorkday()
        w.days = try a.int("days", default: w.days)
        w.seed = UInt64(try a.int("seed", default: Int(w.seed)))
        w.intrusion = !a.flags.contains("no-intrusion")
        var chain = AuditChain(secretKey: try KeyFile.readSecret(keyPath))
        var lines: [String] = []
        for c in w.calls() {
            if c.tool == "send_email" {
                // What the gateway saw just before: the trifecta on the fetch that carried the repository out.
                let f = Finding(.trifecta, .critical, channel: "arguments", "fetch would send data read by git_log out, after untrusted content arrived from fetch")
                lines.append(try chain.seal(AuditRecords.entry(finding: f, agent: c.agent, server: "fetch", tool: "fetch", time: c.time - .seconds(10))))
            }
            lines.append(try chain.seal(AuditRecords.entry(for: c)))
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: out, atomically: true, encoding: .utf8)
        print("wrote \(out): \(lines.count) signed entries for agent \(w.agent) over \(w.days) days\(w.intrusion ? ", the last night an intrusion" : "")")
        return 0
    }

    static func audit(_ args: ArraySlice<String>) throws -> Int32 {
        guard args.first == "verify" else { throw VigilError.usage("audit verify LOG --key PUB") }
        let a = try Arguments(args.dropFirst(), flags: [])
        try a.allowOnly(["key"])
        guard let log = a.positional.first, let keyPath = a.options["key"] else { throw VigilError.usage("audit verify LOG --key PUB") }
        guard let data = FileManager.default.contents(atPath: log) else { throw MCPError.audit("cannot read", place: log) }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let v = AuditChain.verify(lines: lines, publicKey: try KeyFile.readPublic(keyPath))
        if let bad = v.firstBad {
            print("\(log): line \(bad.line): \(bad.reason) (\(v.entries) entries before it are intact)")
            return 2
        }
        print("\(log): \(v.entries) entries, chain intact, every signature valid; last hash \(v.lastHash)")
        return 0
    }
}
