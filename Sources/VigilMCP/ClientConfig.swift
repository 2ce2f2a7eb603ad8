/// MCP client configurations as editors and desktop clients write them: Claude Desktop and Cursor
/// (`mcpServers`), VS Code (`servers`, or `mcp.servers` inside settings.json), and the gateway's own
/// configuration (`servers`). Each gives the servers to scan or pin.
public enum ClientConfig {
    public struct Entry: Sendable, Hashable {
        public var server: GatewayConfig.Server
        /// Why it cannot be scanned here (remote servers), if so.
        public var skipped: String?
    }

    public static func parse(_ text: String, file: String) throws -> [Entry] {
        let v: JSONValue
        do { v = try JSONValue.parse(text) } catch let e as MCPError { throw MCPError.invalid(e.message, place: file) }
        let table = v["mcpServers"]?.object ?? v["servers"]?.object ?? v["mcp"]?["servers"]?.object
        guard let table else {
            throw MCPError.invalid("no MCP servers here (expected mcpServers, servers or mcp.servers)", place: file)
        }
        var out: [Entry] = []
        for (name, s) in table.sorted(by: { $0.key < $1.key }) {
            let place = "\(file): \(name)"
            guard let o = s.object else { throw MCPError.invalid("a server entry must be an object", place: place) }
            var env: [String: String] = [:]
            for (k, ev) in o["env"]?.object ?? [:] { env[k] = ev.string ?? ev.canonical }
            let url = o["url"]?.string ?? o["serverUrl"]?.string
            var command: [String] = []
            if let c = o["command"]?.string { command = [c] + (o["args"]?.array?.compactMap(\.string) ?? []) }
            var server = GatewayConfig.Server(name: name, command: command, env: env, url: command.isEmpty ? url : nil, labels: [], toolLabels: [:])
            for (k, hv) in o["headers"]?.object ?? [:] { if let v = hv.string { server.headers[k] = v } }
            if command.isEmpty, let u = url, !(u.hasPrefix("http://") || u.hasPrefix("https://")) {
                out.append(Entry(server: server, skipped: "not an http(s) URL: \(u)"))
            } else {
                out.append(Entry(server: server, skipped: command.isEmpty && url == nil ? "no command or url" : nil))
            }
        }
        return out
    }
}

/// What a scan found for one server's tools: content checks on every definition, and each tool
/// against the lockfile when one is given.
public enum ToolScan {
    public struct Result: Sendable {
        public var server: String
        public var tool: String?
        public var finding: Finding
        public init(server: String, tool: String?, finding: Finding) {
            self.server = server; self.tool = tool; self.finding = finding
        }
    }

    public static func check(server: String, tools: [JSONValue], lockfile: Lockfile?) -> [Result] {
        var out: [Result] = []
        let injection = InjectionCheck()
        var seen = Set<String>()
        for t in tools {
            let name = t["name"]?.string ?? "(unnamed)"
            if !seen.insert(name).inserted {
                out.append(Result(server: server, tool: name, finding: Finding(.nameCollision, .high, channel: "tools/list", "\(server) lists \(name) twice")))
            }
            for f in injection.check(InjectionCheck.text(of: Lockfile.pinnedDefinition(t)), channel: "tool-description") {
                out.append(Result(server: server, tool: name, finding: f))
            }
            if let lockfile, let f = Gateway.pinStatus(Gateway.Tool(server: server, definition: t), lockfile)
                .finding("\(server)/\(name)", now: t, key: name, channel: "tools/list", held: false) {
                out.append(Result(server: server, tool: name, finding: f))
            }
        }
        if let lockfile {
            let names = Set(tools.compactMap { $0["name"]?.string })
            for p in lockfile.pins where p.server == server && !p.tool.hasPrefix("prompt:") && !names.contains(p.tool) {
                out.append(Result(server: server, tool: p.tool, finding: Finding(.unpinnedTool, .low, channel: "tools/list", "\(server)/\(p.tool) is pinned but no longer offered")))
            }
        }
        return out
    }

    /// Hidden instructions in a server's prompts, resources and resource templates: their names,
    /// titles and descriptions reach the model as a tool's description does. Named `prompt:NAME`
    /// and `resource:URI` in the results. With a lockfile, each prompt against its pin.
    public static func check(server: String, prompts: [JSONValue], resources: [JSONValue], templates: [JSONValue], lockfile: Lockfile? = nil) -> [Result] {
        let injection = InjectionCheck()
        var out: [Result] = []
        if let lockfile {
            for p in prompts {
                guard let name = p["name"]?.string else { continue }
                let key = Lockfile.promptKey(name)
                if let f = lockfile.status(server: server, key: key, definition: p)
                    .finding("the prompt \(server)/\(name)", now: p, key: key, channel: "prompts/list", held: false) {
                    out.append(Result(server: server, tool: key, finding: f))
                }
            }
            let names = Set(prompts.compactMap { $0["name"]?.string.map(Lockfile.promptKey) })
            for p in lockfile.pins where p.server == server && p.tool.hasPrefix("prompt:") && !names.contains(p.tool) {
                out.append(Result(server: server, tool: p.tool, finding: Finding(.unpinnedTool, .low, channel: "prompts/list", "\(server)/\(p.tool) is pinned but no longer offered")))
            }
        }
        for (kind, items) in [("prompt", prompts), ("resource", resources), ("resource", templates)] {
            for item in items {
                for f in injection.check(InjectionCheck.text(of: InjectionCheck.shownFields(item)), channel: kind + "-description") {
                    out.append(Result(server: server, tool: kind + ":" + InjectionCheck.label(item), finding: f))
                }
            }
        }
        return out
    }

    /// SARIF 2.1.0, one result per finding, so code-scanning dashboards show them.
    public static func sarif(_ results: [Result], configFiles: [String]) -> JSONValue {
        let rules: [JSONValue] = Finding.Kind.allCases.map { k in
            ["id": .string(k.rawValue), "shortDescription": ["text": .string(k.rawValue.replacingOccurrences(of: "-", with: " "))]]
        }
        let level: (Finding.Severity) -> String = { s in s >= .high ? "error" : s >= .medium ? "warning" : "note" }
        let items: [JSONValue] = results.map { r in
            ["ruleId": .string(r.finding.kind.rawValue), "level": .string(level(r.finding.severity)),
             "message": ["text": .string(r.finding.detail)],
             "locations": .array(configFiles.prefix(1).map { f in
                 ["physicalLocation": ["artifactLocation": ["uri": .string(f)]],
                  "logicalLocations": [["name": .string(r.server + (r.tool.map { "/" + $0 } ?? "")), "kind": "function"]]]
             }),
             "properties": ["severity": .string(r.finding.severity.name), "channel": .string(r.finding.channel)]]
        }
        return ["$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
                "runs": [["tool": ["driver": ["name": "vigil-mcp-scan", "version": "0.1.0", "rules": .array(rules)]],
                          "results": .array(items)]]]
    }
}
