import Foundation

/// The gateway's configuration: upstream servers, agents and what each may do, the lockfile of
/// approved tools, and where audit entries go. Read from one JSON file; every unknown key and every
/// wrong type is an error naming its path, so a typo in a security policy never passes silently.
public struct GatewayConfig: Sendable {
    public struct Server: Sendable, Hashable {
        public var name: String
        /// stdio: the command and arguments to spawn, and the only environment it gets.
        public var command: [String]
        public var env: [String: String]
        /// A Streamable HTTP upstream instead of a command, and the headers the gateway sends it
        /// (its own credential for that server; an agent's token is never passed on).
        public var url: String?
        public var headers: [String: String] = [:]
        /// What its tools touch, for the lethal-trifecta check: `private` (reads private data),
        /// `untrusted` (returns content from outside), `outbound` (can send data out).
        public var labels: Set<DataLabel>
        /// Per-tool labels, overriding the server's.
        public var toolLabels: [String: Set<DataLabel>]

        public func labels(of tool: String) -> Set<DataLabel> { toolLabels[tool] ?? labels }
    }

    public struct Agent: Sendable, Hashable {
        public var name: String
        /// SHA-256 (hex) of the agent's bearer token: the config holds no secret. Empty when the
        /// agent signs in only with access tokens from the authorization server.
        public var tokenSHA256: String
        /// The value of the access token's agent claim (`oauth.agent_claim`, `sub` by default)
        /// that names this agent, when the gateway accepts OAuth access tokens.
        public var subject: String?
        public var rules: [Rule]
        public var rate: Rate?
        /// Tools that wait for a person (`vigil mcp approve`) before each distinct call.
        public var approval: Set<String>
        /// Which kinds of input a server may ask this agent's client for mid-call (2026-07-28
        /// `input_required`): `elicitation` (a question to the user), `sampling` (a prompt to the
        /// model), `roots` (the client's directories). Elicitation only unless the policy says more.
        public var input: Set<InputKind> = [.elicitation]
    }

    /// What a server's `input_required` result may ask the client for.
    public enum InputKind: String, Sendable, Hashable, CaseIterable {
        case elicitation, sampling, roots
        /// The kind behind an input request's method.
        public init?(method: String) {
            switch method {
            case "elicitation/create": self = .elicitation
            case "sampling/createMessage": self = .sampling
            case "roots/list": self = .roots
            default: return nil
            }
        }
    }

    public struct Rule: Sendable, Hashable {
        public var server: String
        /// Tool names or `*`.
        public var tools: Set<String>
        public var arguments: [String: ArgumentConstraint]
        /// Refuse arguments the rule does not name (a hidden optional field is a side channel).
        public var onlyNamedArguments: Bool
        /// Prompt names or `*` (`prompts/get` runs the server's code with the agent's arguments,
        /// so the rule's argument constraints hold for prompts as for tools).
        public var prompts: Set<String> = []
        /// Resource URI prefixes or `*`; a URI with `.` or `..` segments is never covered.
        public var resources: [String] = []

        public func covers(server s: String, tool t: String) -> Bool {
            s == server && (tools.contains("*") || tools.contains(t))
        }
        public func covers(server s: String, prompt p: String) -> Bool {
            s == server && (prompts.contains("*") || prompts.contains(p))
        }
        /// Whether the rule lets the agent read this resource (its server is the rule's).
        public func covers(resource uri: String) -> Bool {
            !GatewayConfig.hasDotSegments(uri) && resources.contains { $0 == "*" || uri.hasPrefix($0) }
        }
    }

    public struct Rate: Sendable, Hashable {
        public var calls: Int
        public var perSeconds: Double
    }

    public var servers: [String: Server]
    public var agents: [String: Agent]
    public var lockfile: String?
    /// Base64 Ed25519 public keys whose lockfile signatures are accepted.
    public var trustedKeys: [String]
    public var auditLog: String?
    public var auditKey: String?
    public var approvalsDirectory: String?
    /// Text or files bigger than this are refused before any check runs (fixed-latency checks).
    public var maxMessageBytes: Int
    /// Every upstream's tools are listed again this often (on the next client request), so a
    /// definition that changes without a `list_changed` the gateway can hear is still caught.
    public var relistSeconds: Double = 60
    /// Access tokens from the team's authorization server (HTTP clients), beside static tokens.
    public var oauth: AccessTokenVerifier.Settings?

    public init(servers: [String: Server] = [:], agents: [String: Agent] = [:]) {
        self.servers = servers; self.agents = agents
        lockfile = nil; trustedKeys = []; auditLog = nil; auditKey = nil; approvalsDirectory = nil
        maxMessageBytes = 4 << 20
    }

    /// Whether a URI's path has `.` or `..` segments, plain or percent-encoded: a prefix test
    /// would pass `file:///srv/docs/../../etc/passwd`, so such URIs are refused outright.
    public static func hasDotSegments(_ uri: String) -> Bool {
        let lower = uri.lowercased().replacingOccurrences(of: "%2e", with: ".").replacingOccurrences(of: "%2f", with: "/")
            .replacingOccurrences(of: "%5c", with: "/").replacingOccurrences(of: "\\", with: "/")
        let path = lower.split(separator: "?", maxSplits: 1).first.map(String.init) ?? lower
        return path.split(separator: "/", omittingEmptySubsequences: false).contains { $0 == "." || $0 == ".." }
    }

    public func agent(forTokenSHA256 hash: String) -> Agent? {
        agents.values.first { !$0.tokenSHA256.isEmpty && constantTimeEqual($0.tokenSHA256, hash) }
    }

    public func agent(forSubject subject: String) -> Agent? {
        agents.values.first { $0.subject == subject }
    }
}

public enum DataLabel: String, Sendable, Hashable, CaseIterable {
    case `private`, untrusted, outbound
}

func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var diff: UInt8 = 0
    for i in 0..<x.count { diff |= x[i] ^ y[i] }
    return diff == 0
}

// MARK: - Reading

extension GatewayConfig {
    /// Reads the configuration; relative paths in it are resolved against `directory`.
    public static func parse(_ text: String, directory: String = ".") throws -> GatewayConfig {
        let v: JSONValue
        do { v = try JSONValue.parse(text) } catch let e as MCPError { throw MCPError.policy(e.message, place: "config") }
        var r = Reader(path: "")
        let top = try r.object(v, allowed: ["servers", "agents", "lockfile", "trusted_keys", "audit", "approvals", "max_message_bytes", "relist_seconds", "oauth"])
        var config = GatewayConfig()
        func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : directory + "/" + p }
        for (name, sv) in try r.object(top["servers"] ?? [:], at: "servers", allowed: nil) {
            let path = "servers.\(name)"
            let s = try r.object(sv, at: path, allowed: ["command", "args", "env", "url", "headers", "labels", "tool_labels"])
            var command: [String] = []
            if let c = s["command"] { command = [try r.string(c, at: path + ".command")] }
            command += try r.strings(s["args"] ?? [], at: path + ".args")
            let url = try s["url"].map { try r.string($0, at: path + ".url") }
            guard command.isEmpty != (url == nil) else { throw MCPError.policy("a server needs a command or a url, not both", place: path) }
            if let url {
                guard let c = URLComponents(string: url), c.scheme == "http" || c.scheme == "https", c.host != nil else {
                    throw MCPError.policy("not an http(s) URL: \(url)", place: path + ".url")
                }
            }
            var headers: [String: String] = [:]
            for (k, hv) in try r.object(s["headers"] ?? [:], at: path + ".headers", allowed: nil) { headers[k] = try r.string(hv, at: "\(path).headers.\(k)") }
            var env: [String: String] = [:]
            for (k, ev) in try r.object(s["env"] ?? [:], at: path + ".env", allowed: nil) { env[k] = try r.string(ev, at: "\(path).env.\(k)") }
            var toolLabels: [String: Set<DataLabel>] = [:]
            for (t, lv) in try r.object(s["tool_labels"] ?? [:], at: path + ".tool_labels", allowed: nil) {
                toolLabels[t] = try r.labels(lv, at: "\(path).tool_labels.\(t)")
            }
            config.servers[name] = Server(name: name, command: command, env: env, url: url,
                                          labels: try r.labels(s["labels"] ?? [], at: path + ".labels"),
                                          toolLabels: toolLabels)
            config.servers[name]?.headers = headers
        }
        for (name, av) in try r.object(top["agents"] ?? [:], at: "agents", allowed: nil) {
            let path = "agents.\(name)"
            let a = try r.object(av, at: path, allowed: ["token_sha256", "subject", "allow", "rate", "approval", "input"])
            let subject = try a["subject"].map { try r.string($0, at: path + ".subject") }
            guard a["token_sha256"] != nil || subject != nil else { throw MCPError.policy("missing token_sha256 (or subject, for OAuth access tokens)", place: path) }
            let hash = try a["token_sha256"].map { try r.string($0, at: path + ".token_sha256").lowercased() } ?? ""
            guard hash.isEmpty || (hash.count == 64 && hash.allSatisfy(\.isHexDigit)) else {
                throw MCPError.policy("token_sha256 must be 64 hex digits (vigil mcp token prints one)", place: path + ".token_sha256")
            }
            var rules: [Rule] = []
            for (i, rv) in (try r.array(a["allow"] ?? [], at: path + ".allow")).enumerated() {
                let rp = "\(path).allow[\(i)]"
                let ro = try r.object(rv, at: rp, allowed: ["server", "tools", "prompts", "resources", "arguments", "only_named_arguments"])
                guard let sv = ro["server"] else { throw MCPError.policy("missing server", place: rp) }
                let server = try r.string(sv, at: rp + ".server")
                guard config.servers[server] != nil else { throw MCPError.policy("no server named '\(server)'", place: rp + ".server") }
                var args: [String: ArgumentConstraint] = [:]
                for (arg, cv) in try r.object(ro["arguments"] ?? [:], at: rp + ".arguments", allowed: nil) {
                    args[arg] = try ArgumentConstraint.parse(cv, at: "\(rp).arguments.\(arg)", reader: &r)
                }
                // A rule naming prompts or resources but no tools allows no tools; one naming
                // none of the three allows every tool of its server (as before prompts existed).
                let context = ro["prompts"] != nil || ro["resources"] != nil
                var rule = Rule(server: server, tools: Set(try r.strings(ro["tools"] ?? (context ? [] : ["*"]), at: rp + ".tools")),
                                arguments: args,
                                onlyNamedArguments: try r.bool(ro["only_named_arguments"] ?? false, at: rp + ".only_named_arguments"))
                rule.prompts = Set(try r.strings(ro["prompts"] ?? [], at: rp + ".prompts"))
                rule.resources = try r.strings(ro["resources"] ?? [], at: rp + ".resources")
                for (j, prefix) in rule.resources.enumerated() where prefix != "*" && (!prefix.contains(":") || Self.hasDotSegments(prefix)) {
                    throw MCPError.policy("a resource prefix is a URI start such as file:///srv/docs/ or * (and has no . or .. segments): \(prefix)", place: "\(rp).resources[\(j)]")
                }
                rules.append(rule)
            }
            var rate: Rate?
            if let rv = a["rate"] {
                let ro = try r.object(rv, at: path + ".rate", allowed: ["calls", "per_seconds"])
                let calls = try r.int(ro["calls"] ?? .null, at: path + ".rate.calls")
                let per = try r.int(ro["per_seconds"] ?? 60, at: path + ".rate.per_seconds")
                guard calls > 0, per > 0 else { throw MCPError.policy("calls and per_seconds must be positive", place: path + ".rate") }
                rate = Rate(calls: calls, perSeconds: Double(per))
            }
            config.agents[name] = Agent(name: name, tokenSHA256: hash, subject: subject, rules: rules, rate: rate,
                                        approval: Set(try r.strings(a["approval"] ?? [], at: path + ".approval")))
            if let iv = a["input"] {
                config.agents[name]?.input = Set(try r.strings(iv, at: path + ".input").map { s in
                    guard let k = InputKind(rawValue: s) else {
                        throw MCPError.policy("unknown input kind '\(s)' (known: elicitation, sampling, roots)", place: path + ".input")
                    }
                    return k
                })
            }
        }
        if let l = top["lockfile"] { config.lockfile = resolve(try r.string(l, at: "lockfile")) }
        config.trustedKeys = try r.strings(top["trusted_keys"] ?? [], at: "trusted_keys")
        if let av = top["audit"] {
            let ao = try r.object(av, at: "audit", allowed: ["log", "key"])
            config.auditLog = try ao["log"].map { resolve(try r.string($0, at: "audit.log")) }
            config.auditKey = try ao["key"].map { resolve(try r.string($0, at: "audit.key")) }
        }
        if let d = top["approvals"] { config.approvalsDirectory = resolve(try r.string(d, at: "approvals")) }
        if let m = top["max_message_bytes"] { config.maxMessageBytes = try r.int(m, at: "max_message_bytes") }
        if let m = top["relist_seconds"] {
            guard let v = m.number, v > 0 else { throw MCPError.policy("must be a positive number of seconds", place: "relist_seconds") }
            config.relistSeconds = v
        }
        if let ov = top["oauth"] {
            let o = try r.object(ov, at: "oauth", allowed: ["issuer", "jwks", "introspection", "audience", "agent_claim", "scope", "leeway_seconds"])
            guard let iss = o["issuer"], o["jwks"] != nil || o["introspection"] != nil else {
                throw MCPError.policy("oauth needs issuer, and jwks or introspection (or both)", place: "oauth")
            }
            let source = try o["jwks"].map { try r.string($0, at: "oauth.jwks") }
            var settings = AccessTokenVerifier.Settings(issuer: try r.string(iss, at: "oauth.issuer"),
                                                        jwks: source.map { $0.hasPrefix("https://") || $0.hasPrefix("http://") ? $0 : resolve($0) })
            if let iv = o["introspection"] {
                let io = try r.object(iv, at: "oauth.introspection", allowed: ["url", "client_id", "client_secret_file"])
                guard let u = io["url"], let c = io["client_id"], let f = io["client_secret_file"] else {
                    throw MCPError.policy("introspection needs url, client_id and client_secret_file", place: "oauth.introspection")
                }
                let url = try r.string(u, at: "oauth.introspection.url")
                guard url.hasPrefix("https://") || url.hasPrefix("http://127.0.0.1") || url.hasPrefix("http://localhost") else {
                    throw MCPError.policy("the introspection endpoint must be https (tokens and the gateway's secret travel to it)", place: "oauth.introspection.url")
                }
                settings.introspection = .init(url: url, clientID: try r.string(c, at: "oauth.introspection.client_id"),
                                               secretFile: resolve(try r.string(f, at: "oauth.introspection.client_secret_file")))
            }
            settings.audience = try o["audience"].map { try r.string($0, at: "oauth.audience") }
            settings.agentClaim = try o["agent_claim"].map { try r.string($0, at: "oauth.agent_claim") } ?? "sub"
            settings.scope = try o["scope"].map { try r.string($0, at: "oauth.scope") }
            if let l = o["leeway_seconds"] { settings.leewaySeconds = Double(try r.int(l, at: "oauth.leeway_seconds")) }
            config.oauth = settings
            let subjects = config.agents.values.compactMap(\.subject)
            if Set(subjects).count != subjects.count { throw MCPError.policy("two agents share a subject", place: "agents") }
        } else if let a = config.agents.values.first(where: { $0.subject != nil }) {
            throw MCPError.policy("a subject needs the oauth section that says whose tokens to accept", place: "agents.\(a.name).subject")
        }
        if config.lockfile != nil && config.trustedKeys.isEmpty {
            throw MCPError.policy("a lockfile needs trusted_keys to check its signature", place: "trusted_keys")
        }
        return config
    }
}

/// Typed reads from JSON with the path of every error.
struct Reader {
    var path: String
    func object(_ v: JSONValue, at p: String = "top level", allowed: Set<String>?) throws -> [String: JSONValue] {
        guard let o = v.object else { throw MCPError.policy("must be an object", place: p) }
        if let allowed {
            for k in o.keys.sorted() where !allowed.contains(k) {
                throw MCPError.policy("unknown key '\(k)' (known: \(allowed.sorted().joined(separator: ", ")))", place: p)
            }
        }
        return o
    }
    func array(_ v: JSONValue, at p: String) throws -> [JSONValue] {
        guard let a = v.array else { throw MCPError.policy("must be a list", place: p) }
        return a
    }
    func string(_ v: JSONValue, at p: String) throws -> String {
        guard let s = v.string else { throw MCPError.policy("must be a string", place: p) }
        return s
    }
    func strings(_ v: JSONValue, at p: String) throws -> [String] {
        try array(v, at: p).enumerated().map { try string($0.element, at: "\(p)[\($0.offset)]") }
    }
    func int(_ v: JSONValue, at p: String) throws -> Int {
        guard let i = v.int, i >= 0, i <= Int64(Int32.max) else { throw MCPError.policy("must be a whole number", place: p) }
        return Int(i)
    }
    func bool(_ v: JSONValue, at p: String) throws -> Bool {
        guard let b = v.bool else { throw MCPError.policy("must be true or false", place: p) }
        return b
    }
    func labels(_ v: JSONValue, at p: String) throws -> Set<DataLabel> {
        Set(try strings(v, at: p).map { s in
            guard let l = DataLabel(rawValue: s) else {
                throw MCPError.policy("unknown label '\(s)' (known: private, untrusted, outbound)", place: p)
            }
            return l
        })
    }
}
