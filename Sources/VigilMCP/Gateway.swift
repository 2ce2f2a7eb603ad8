/// The gateway for one agent session, sans I/O: messages from the client and from each upstream
/// server go in, messages to send, audit entries and log lines come out. It terminates MCP on both
/// sides, so the client sees one server (the gateway) and each upstream sees one client (the
/// gateway): the agent's identity and `_meta` never reach an upstream.
public struct Gateway: Sendable {
    public enum Effect: Hashable, Sendable {
        case toClient(RPCMessage)
        case toUpstream(server: String, RPCMessage)
        /// An audit entry to seal into the chain (see `AuditChain`).
        case audit(AuditEntry)
        case log(String)
        /// A call waits for a person; the key names it for `vigil mcp approve`.
        case held(key: String, call: JSONValue)
    }

    public struct Options: Sendable {
        public var serverName = "vigil-mcp-gateway"
        /// Client requests held while upstreams start; more are refused.
        public var maxQueued = 256
        /// Calls in flight per session; more are refused.
        public var maxInFlight = 64
        /// Withhold a tool result carrying hidden instructions at or above this severity.
        public var withholdResultsAt: Finding.Severity = .high
        /// Open `subscriptions/listen` streams per session; more are refused.
        public var maxListens = 8
        /// A server's `requestState` over this size is refused (it is opaque, and the client
        /// carries it back whole on every retry).
        public var maxRequestStateBytes = 64 << 10
        /// `input_required` rounds remembered while their retries are awaited.
        public var maxOpenInputRounds = 64
        public init() {}
    }

    /// One tool as the gateway knows it.
    public struct Tool: Sendable, Hashable {
        public var server: String
        public var definition: JSONValue
        public var name: String { definition["name"]?.string ?? "" }
        /// Why it is not offered to agents (nil when it is).
        public var blocked: String?
        public init(server: String, definition: JSONValue, blocked: String? = nil) {
            self.server = server; self.definition = definition; self.blocked = blocked
        }
    }

    enum UpstreamState: Sendable, Hashable { case probing, initializing, listing, ready, failed(String) }
    struct Upstream: Sendable {
        var state: UpstreamState = .probing
        var listedAt = 0.0
        var relisting = false
        var revision: Revision = .handshake(Revision.latestHandshake)
        var declaresListChanged = false
        var tools: [JSONValue] = []
        var listing: [JSONValue] = []
        /// Pages of the listing under way: a server that sends cursors with empty pages forever
        /// is stopped at `Gateway.maxPages`.
        var listingPages = 0
        mutating func restartListing() { listing = []; listingPages = 0 }
        /// The id of the gateway's own `subscriptions/listen` on a modern upstream, while open,
        /// and the filter it asked for (a new filter is a new subscription).
        var listenID: Int?
        var listenFilter: JSONValue?
        /// The resources the gateway subscribed to on an older upstream (`resources/subscribe`).
        var subscribedURIs: Set<String> = []
        /// The upstream refused a subscription: not asked again this session.
        var listenRefused = false
        /// What the server declared it offers (`prompts`, `resources`, `tools`).
        var capabilities: JSONValue?
    }
    /// An audit entry as the gateway decides it. What only the log needs of a call's arguments
    /// (their hash and shape) is worked out when the entry is written, after the messages of the
    /// same step have left: it is off every call's path.
    public struct AuditEntry: Hashable, Sendable {
        public var fields: [String: JSONValue]
        public var arguments: JSONValue?
        public var json: JSONValue {
            var o = fields
            if let arguments {
                o["arguments_sha256"] = .string(Sodium.sha256Hex(arguments.canonical))
                o["shape"] = .object(ArgumentShape.of(arguments).mapValues { .string($0) })
            }
            return .object(o)
        }
    }

    enum Pending: Sendable {
        case discover, initialize, list(cursor: Bool)
        /// The gateway's own `subscriptions/listen` on a modern upstream, with its request id.
        case listen(Int)
        /// The gateway's `resources/subscribe` or `resources/unsubscribe` on an older upstream.
        case subscription(uri: String)
        case call(clientID: JSONValue, tool: String, arguments: JSONValue, started: Double)
        /// A page of a listing the client asked for (see `Gathering`).
        case gather(Int)
        /// A `prompts/get` or `resources/read` passed on.
        case fetch(clientID: JSONValue, kind: ContextKind, name: String, arguments: JSONValue, started: Double)
    }

    public let config: GatewayConfig
    public let agent: GatewayConfig.Agent
    public let lockfile: Lockfile?
    public var options: Options
    public private(set) var tools: [String: Tool] = [:]

    var upstreams: [String: Upstream] = [:]
    var pending: [String: [Int: Pending]] = [:]
    var nextID = 0
    var client: Revision?
    private var queued: [RPCMessage] = []
    var rate = RateLimiter()
    var flow = DataFlowTracker()
    let injection = InjectionCheck()
    private let leaks = LeakCheck()
    var inFlight = 0
    /// Without a lockfile, the first definition of each tool seen in the session is its pin.
    private var sessionPins: [String: JSONValue] = [:]
    /// The client's open `subscriptions/listen` requests, by id, with what each was granted.
    var listens: [JSONValue: Listen] = [:]
    /// The resources an older client subscribed to (`resources/subscribe`), with their servers.
    var subscribed: [String: String] = [:]
    /// `input_required` results passed to the client whose retries are awaited: a retry must
    /// bring back what was issued (the same state, answers to the questions asked) for the same
    /// tool, once. A `requestState` is the server's, and the client is not trusted to forge one.
    struct InputRound: Sendable {
        var server: String
        var tool: String
        var stateSHA256: String?
        var keys: Set<String>
    }
    private var openInputRounds: [InputRound] = []
    /// Listings of prompts or resources being gathered from several upstreams, by number.
    var gatherings: [Int: Gathering] = [:]
    var nextGathering = 0
    /// Which server offers each prompt the agent was last shown.
    var promptServers: [String: String] = [:]
    /// Prompts the last listing withheld (hidden instructions, a name two servers claim), and why.
    var promptsBlocked: [String: String] = [:]
    /// Without a lockfile, the first definition of each prompt (server/name) seen in the session.
    var promptPins: [String: JSONValue] = [:]
    /// Which server offers each resource template the agent was last shown (completions go there).
    var templateServers: [String: String] = [:]
    /// Prompts, resources and templates already alerted on, so a listing repeated does not
    /// repeat its alerts.
    var contextAlerted: Set<String> = []

    /// Items kept and pages followed per listing at most (tools, prompts, resources; the gateway
    /// and the scanner alike): a server cannot grow the gateway or hold it listing without bound.
    public static let maxListed = 10_000
    public static let maxPages = 1_000

    public init(config: GatewayConfig, agent: GatewayConfig.Agent, lockfile: Lockfile?, options: Options = Options()) {
        self.config = config; self.agent = agent; self.lockfile = lockfile; self.options = options
    }

    public var ready: Bool {
        upstreams.count == config.servers.count && upstreams.values.allSatisfy {
            if case .ready = $0.state { return true }; if case .failed = $0.state { return true }; return false
        }
    }

    // MARK: - Upstream side

    /// Starts every upstream: `server/discover` first, `initialize` when the server is older.
    public mutating func start(now: Double) -> [Effect] {
        var out: [Effect] = [.audit(entry("session", now: now, ["servers": .array(config.servers.keys.sorted().map { .string($0) })]))]
        for name in config.servers.keys.sorted() {
            upstreams[name] = Upstream()
            let params: JSONValue = ["_meta": Revision.modernMeta(clientName: options.serverName)]
            out.append(send(name, "server/discover", params, .discover))
        }
        return out
    }

    /// An upstream's process ended or its connection failed.
    public mutating func upstreamClosed(_ server: String, reason: String, now: Double) -> [Effect] {
        upstreams[server, default: Upstream()].state = .failed(reason)
        var out: [Effect] = [.log("upstream \(server) closed: \(reason)")]
        for (_, p) in pending[server] ?? [:] {
            switch p {
            case .call(let cid, let tool, _, _), .fetch(let cid, _, let tool, _, _):
                out.append(.toClient(.error(id: cid, code: RPCMessage.Code.internalError, message: "upstream \(server) closed while \(tool) ran", data: nil)))
                inFlight -= 1
            default: break
            }
        }
        let gathers = (pending[server] ?? [:]).values.compactMap { p -> Int? in if case .gather(let g) = p { return g }; return nil }
        pending[server] = [:]
        for g in Set(gathers).sorted() { out += gathered(server, g, result: nil, error: "closed: \(reason)", now: now) }
        for (name, t) in tools where t.server == server { tools[name]?.blocked = "its server \(server) is down" }
        if ready { out += drainQueue(now: now) }
        return out
    }

    public mutating func fromUpstream(_ server: String, _ message: RPCMessage, now: Double) -> [Effect] {
        switch message {
        case .result(let id, let result):
            guard let key = id.int, let p = pending[server]?.removeValue(forKey: Int(key)) else {
                return [.log("upstream \(server) answered an id the gateway never sent: \(id.canonical)")]
            }
            return upstreamAnswer(server, p, result: result, error: nil, now: now)
        case .error(let id, let code, let msg, let data):
            guard let key = id.int, let p = pending[server]?.removeValue(forKey: Int(key)) else {
                return [.log(id == .null ? "upstream \(server): \(msg)" : "upstream \(server) sent an error for an unknown id: \(msg)")]
            }
            return upstreamAnswer(server, p, result: nil, error: (code, msg, data), now: now)
        case .notification(let method, let params):
            if method == "notifications/subscriptions/acknowledged" {
                if upstreams[server]?.listenFilter?["toolsListChanged"] != nil, params?["notifications"]?["toolsListChanged"]?.bool != true {
                    return [.log("upstream \(server) will not tell the gateway when its tools change; they are listed again every \(Int(config.relistSeconds)) s")]
                }
                return []
            }
            if method == "notifications/tools/list_changed" {
                var out: [Effect] = []
                let u = upstreams[server]
                if !(u?.declaresListChanged ?? false) {
                    out += note(Finding(.undeclaredListChanged, .high, channel: "notifications",
                                        "\(server) said its tools changed without declaring listChanged"), server: server, tool: nil, now: now)
                } else if u?.revision.isModern ?? false,
                          params?["_meta"]?[Revision.Meta.subscriptionID]?.int.map({ Int($0) }) != u?.listenID || u?.listenID == nil {
                    // 2026-07-28: a server sends only what a subscription asked for.
                    out += note(Finding(.undeclaredListChanged, .high, channel: "notifications",
                                        "\(server) said its tools changed outside the gateway's subscription"), server: server, tool: nil, now: now)
                }
                upstreams[server]?.restartListing()
                upstreams[server]?.relisting = true
                out.append(send(server, "tools/list", listParams(server, cursor: nil), .list(cursor: false)))
                return out
            }
            return upstreamEvent(server, method, params)
        case .request(let id, let method, _):
            // Server-initiated requests (sampling, elicitation, roots) are a channel into the model;
            // the gateway does not relay them.
            return [.toUpstream(server: server, .error(id: id, code: RPCMessage.Code.methodNotFound,
                                                        message: "the Vigil gateway does not relay \(method)", data: nil)),
                    .log("refused \(method) from upstream \(server)")]
        }
    }

    private mutating func upstreamAnswer(_ server: String, _ p: Pending, result: JSONValue?,
                                         error: (Int, String, JSONValue?)?, now: Double) -> [Effect] {
        switch p {
        case .discover:
            if let result, let versions = result["supportedVersions"]?.array?.compactMap(\.string),
               versions.contains(Revision.latestModern) {
                upstreams[server]?.revision = .modern(Revision.latestModern)
                upstreams[server]?.declaresListChanged = result["capabilities"]?["tools"]?["listChanged"]?.bool ?? false
                upstreams[server]?.capabilities = result["capabilities"]
                upstreams[server]?.state = .listing
                return [send(server, "tools/list", listParams(server, cursor: nil), .list(cursor: false))]
            }
            upstreams[server]?.state = .initializing
            let params: JSONValue = ["protocolVersion": .string(Revision.latestHandshake), "capabilities": [:],
                                     "clientInfo": ["name": .string(options.serverName), "version": "0.1.0"]]
            return [send(server, "initialize", params, .initialize)]
        case .initialize:
            guard let result else {
                upstreams[server]?.state = .failed("initialize refused: \(error?.1 ?? "")")
                return [.log("upstream \(server) refused initialize: \(error?.1 ?? "")")] + (ready ? drainQueue(now: now) : [])
            }
            let version = result["protocolVersion"]?.string ?? Revision.latestHandshake
            upstreams[server]?.revision = .handshake(version)
            upstreams[server]?.declaresListChanged = result["capabilities"]?["tools"]?["listChanged"]?.bool ?? false
            upstreams[server]?.capabilities = result["capabilities"]
            upstreams[server]?.state = .listing
            return [.toUpstream(server: server, .notification(method: "notifications/initialized", params: nil)),
                    send(server, "tools/list", listParams(server, cursor: nil), .list(cursor: false))]
        case .list:
            guard let result else {
                upstreams[server]?.state = .failed("tools/list refused: \(error?.1 ?? "")")
                return [.log("upstream \(server) refused tools/list: \(error?.1 ?? "")")] + (ready ? drainQueue(now: now) : [])
            }
            upstreams[server]?.listing += result["tools"]?.array ?? []
            upstreams[server]?.listingPages += 1
            if let cursor = result["nextCursor"]?.string, (upstreams[server]?.listing.count ?? 0) < Self.maxListed,
               (upstreams[server]?.listingPages ?? 0) < Self.maxPages {
                return [send(server, "tools/list", listParams(server, cursor: cursor), .list(cursor: true))]
            }
            let wasReady = ready
            upstreams[server]?.listedAt = now
            upstreams[server]?.relisting = false
            let listed = upstreams[server]?.listing ?? []
            upstreams[server]?.tools = listed
            upstreams[server]?.restartListing()
            upstreams[server]?.state = .ready
            let before = visibleNames
            var out = rebuildTools(now: now)
            if upstreams[server]?.listenID == nil { out += syncSubscriptions(server) }
            if ready && !wasReady { out += drainQueue(now: now) }
            if wasReady, visibleNames != before { out += toolsChanged() }
            return out
        case .listen(let id):
            // An answer to a subscription the gateway already replaced changes nothing.
            guard upstreams[server]?.listenID == id else { return [] }
            upstreams[server]?.listenID = nil
            upstreams[server]?.listenFilter = nil
            if error != nil { upstreams[server]?.listenRefused = true }
            // Refused: not asked again; ended: asked again after the next listing. Either way the
            // tools are listed again every relistSeconds meanwhile.
            return [.log("upstream \(server) \(error == nil ? "ended" : "refused") the gateway's subscription\(error.map { ": \($0.1)" } ?? ""); its tools are listed again every \(Int(config.relistSeconds)) s\(error == nil ? ", and it is subscribed to again after the next listing" : "")")]
        case .subscription(let uri):
            return error.map { [.log("upstream \(server) refused a subscription change for \(uri): \($0.1)")] } ?? []
        case .gather(let g):
            return gathered(server, g, result: result, error: error?.1, now: now)
        case .fetch(let cid, let kind, let name, let arguments, let started):
            return fetched(server, clientID: cid, kind: kind, name: name, arguments: arguments, started: started,
                           result: result, error: error, now: now)
        case .call(let cid, let tool, let arguments, let started):
            inFlight -= 1
            let labels = config.servers[server]?.labels(of: tool) ?? []
            let base = AuditEntry(fields: ["server": .string(server), "tool": .string(tool), "decision": "allow",
                                           "ms": .int(Int64((now - started) * 1000))], arguments: arguments)
            func audited(_ outcome: String, _ extra: [String: JSONValue] = [:]) -> Effect { callEntry(base, outcome, extra, now: now) }
            if let error {
                return [audited("error", ["error": .string(error.1)]), .toClient(.error(id: cid, code: error.0, message: error.1, data: error.2))]
            }
            guard let result else { return [] }
            if result["resultType"]?.string == "input_required" {
                return inputRequired(server: server, tool: tool, clientID: cid, result: result, now: now, audit: base)
            }
            var found: [Finding] = []
            var texts: [String] = []
            result["content"]?.array?.forEach { c in if let t = c["text"]?.string { texts.append(t) } }
            // Structured content usually repeats the text; what it adds is read too.
            let plain = Array(texts.joined(separator: "\n").utf8)
            result["structuredContent"]?.forEachString { s in if !ByteText.contains(plain, s) { texts.append(s) } }
            // One check over everything the model will read from this result.
            found = injection.check(texts.joined(separator: "\n"), channel: "tool-result")
            flow.recordResult(result, labels: labels, tool: tool)
            var out: [Effect] = []
            for f in found { out += note(f, server: server, tool: tool, now: now) }
            let withheld = found.contains { $0.severity >= options.withholdResultsAt }
            out.append(audited(withheld ? "withheld" : "ok"))
            if withheld {
                let why = found.filter { $0.severity >= options.withholdResultsAt }.map(\.detail).joined(separator: "; ")
                let text = "Vigil withheld this result from \(server)/\(tool): \(why)."
                return out + [.toClient(.result(id: cid, result: clientResult(["content": [["type": "text", "text": .string(text)]], "isError": true])))]
            }
            var r = result.object ?? [:]
            r["_meta"] = nil
            return out + [.toClient(.result(id: cid, result: clientResult(r)))]
        }
    }

    /// A server asks, mid-call, for input only the client can give (2026-07-28 `input_required`):
    /// a question for the user, a prompt for the model, the client's directories. Each is a
    /// channel from the server to the model or the user, so each kind must be allowed for the
    /// agent and its words are checked like a tool result; the round is remembered so the retry
    /// can be held to it. A client of the older era cannot answer, and is told so.
    private mutating func inputRequired(server: String, tool: String, clientID: JSONValue, result: JSONValue, now: Double,
                                        audit base: AuditEntry) -> [Effect] {
        func audited(_ outcome: String, _ extra: [String: JSONValue]) -> Effect { callEntry(base, outcome, extra, now: now) }
        func refuse(_ why: String, _ findings: [Finding] = []) -> [Effect] {
            var out: [Effect] = []
            for f in findings { out += note(f, server: server, tool: tool, now: now) }
            return out + [audited("refused", ["reason": .string(why)]),
                          .toClient(.error(id: clientID, code: RPCMessage.Code.denied, message: "Vigil gateway: \(why)", data: nil))]
        }
        guard client?.isModern ?? false else {
            return refuse("\(server)/\(tool) needs input mid-call, which a \(client?.version ?? "2025-11-25") client cannot give (2026-07-28 only)")
        }
        let requests = result["inputRequests"]?.object ?? [:]
        let state = result["requestState"]
        if let state, state.string == nil {
            return refuse("\(server) sent a requestState that is not a string", [Finding(.protocolViolation, .medium, channel: "input-request", "\(server)/\(tool): requestState is not a string")])
        }
        guard !requests.isEmpty || state != nil else {
            return refuse("\(server) asked for input without inputRequests or requestState", [Finding(.protocolViolation, .medium, channel: "input-request", "\(server)/\(tool): an input_required result with neither inputRequests nor requestState")])
        }
        if let s = state?.string, s.utf8.count > options.maxRequestStateBytes {
            return refuse("\(server)'s requestState is \(s.utf8.count) bytes, over the gateway's \(options.maxRequestStateBytes)")
        }
        var kinds: Set<GatewayConfig.InputKind> = []
        for (key, r) in requests.sorted(by: { $0.key < $1.key }) {
            guard let m = r["method"]?.string, let kind = GatewayConfig.InputKind(method: m) else {
                return refuse("\(server) asked for input of an unknown kind (\(key): \(r["method"]?.string ?? "no method"))",
                              [Finding(.protocolViolation, .medium, channel: "input-request", "\(server)/\(tool) asked for unknown input \(key)")])
            }
            guard agent.input.contains(kind) else {
                return refuse("\(server)/\(tool) asked for \(kind.rawValue) input, which \(agent.name)'s policy does not allow (agents.\(agent.name).input)",
                              [Finding(.policyDenied, .medium, channel: "input-request", "\(server)/\(tool) asked \(agent.name) for \(kind.rawValue) input; not allowed")])
            }
            kinds.insert(kind)
        }
        // What the user or the model will read: checked like a tool result.
        var texts: [String] = []
        JSONValue.object(requests).forEachString { texts.append($0) }
        let found = injection.check(texts.joined(separator: "\n"), channel: "input-request")
        if found.contains(where: { $0.severity >= options.withholdResultsAt }) {
            let why = found.filter { $0.severity >= options.withholdResultsAt }.map(\.detail).joined(separator: "; ")
            return refuse("withheld the input \(server)/\(tool) asked for: \(why)", found)
        }
        var out: [Effect] = []
        for f in found { out += note(f, server: server, tool: tool, now: now) }
        if openInputRounds.count >= options.maxOpenInputRounds { openInputRounds.removeFirst() }
        openInputRounds.append(InputRound(server: server, tool: tool, stateSHA256: state?.string.map { Sodium.sha256Hex($0) },
                                          keys: Set(requests.keys)))
        var r = result.object ?? [:]
        r["_meta"] = nil
        out.append(audited("input-required", ["input": .array(kinds.map(\.rawValue).sorted().map { .string($0) })]))
        return out + [.toClient(.result(id: clientID, result: clientResult(r)))]
    }

    /// The client's tool list changed: an older client hears it as a notification, a modern one
    /// on each of its subscriptions that asked.
    private func toolsChanged() -> [Effect] {
        guard let client else { return [] }
        guard client.isModern else { return [.toClient(.notification(method: "notifications/tools/list_changed", params: nil))] }
        return listens.filter(\.value.tools).keys.sorted { $0.canonical < $1.canonical }.map { id in
            .toClient(.notification(method: "notifications/tools/list_changed", params: ["_meta": [Revision.Meta.subscriptionID: id]]))
        }
    }

    func listParams(_ server: String, cursor: String?) -> JSONValue {
        var o: [String: JSONValue] = [:]
        if let cursor { o["cursor"] = .string(cursor) }
        if upstreams[server]?.revision.isModern ?? false { o["_meta"] = Revision.modernMeta(clientName: options.serverName) }
        return .object(o)
    }

    mutating func send(_ server: String, _ method: String, _ params: JSONValue?, _ p: Pending) -> Effect {
        nextID += 1
        pending[server, default: [:]][nextID] = p
        return .toUpstream(server: server, .request(id: .int(Int64(nextID)), method: method, params: params))
    }

    /// Recomputes the offered tools after any upstream listed its tools: pins, hidden
    /// instructions in descriptions, and name collisions across servers.
    private mutating func rebuildTools(now: Double) -> [Effect] {
        var out: [Effect] = []
        var byName: [String: [Tool]] = [:]
        for (server, u) in upstreams.sorted(by: { $0.key < $1.key }) {
            for def in u.tools {
                guard let name = def["name"]?.string, !name.isEmpty else { continue }
                byName[name, default: []].append(Tool(server: server, definition: def, blocked: nil))
            }
        }
        var next: [String: Tool] = [:]
        for (name, candidates) in byName.sorted(by: { $0.key < $1.key }) {
            if candidates.count > 1 {
                let servers = candidates.map(\.server).joined(separator: ", ")
                var t = candidates[0]
                t.blocked = "the name \(name) is offered by \(servers)"
                if tools[name]?.blocked != t.blocked {
                    out += note(Finding(.nameCollision, .high, channel: "tools/list", "\(name) is offered by \(servers); neither is offered until one is renamed or removed"), server: nil, tool: name, now: now)
                }
                next[name] = t
                continue
            }
            var t = candidates[0]
            let previous = tools[name]
            var found: [Finding] = []
            let key = "\(t.server)/\(name)"
            if lockfile == nil, let first = sessionPins[key], Lockfile.hash(first) != Lockfile.hash(t.definition) {
                found.append(Finding(.rugPull, .critical, channel: "tools/list", "\(key) changed during the session: \(Self.describeChange(from: first, to: t.definition))"))
            }
            if sessionPins[key] == nil { sessionPins[key] = t.definition }
            if let lockfile, let f = Self.pinStatus(t, lockfile).finding(key, now: t.definition, key: name, channel: "tools/list", held: true) {
                found.append(f)
            }
            found += injection.check(InjectionCheck.text(of: Lockfile.pinnedDefinition(t.definition)), channel: "tool-description")
            if let worst = found.max(by: { $0.severity < $1.severity }), worst.severity >= .medium {
                t.blocked = worst.detail
            }
            if previous?.blocked != t.blocked || previous?.definition != t.definition {
                for f in found { out += note(f, server: t.server, tool: name, now: now) }
            }
            next[name] = t
        }
        tools = next
        out.append(.audit(entry("tools", now: now, [
            "offered": .array(tools.values.filter { $0.blocked == nil }.map { .string("\($0.server)/\($0.name)") }.sorted { $0.canonical < $1.canonical }),
            "blocked": .array(tools.values.filter { $0.blocked != nil }.map { .string("\($0.server)/\($0.name)") }.sorted { $0.canonical < $1.canonical }),
        ])))
        return out
    }

    static func pinStatus(_ t: Tool, _ lock: Lockfile) -> PinStatus {
        lock.status(server: t.server, key: t.name, definition: t.definition)
    }

    /// What changed between a pinned definition and the one listed now (`key`: the pin's).
    static func describeChange(from was: JSONValue, to now: JSONValue, key: String = "") -> String {
        let a = Lockfile.pinned(was, key: key), b = Lockfile.pinned(now, key: key)
        let keys = Set((a.object ?? [:]).keys).union((b.object ?? [:]).keys).sorted()
        let changed = keys.filter { a[$0] != b[$0] }
        var s = "its " + changed.joined(separator: " and ") + " changed"
        if changed.contains("description"), let d = b["description"]?.string {
            s += "; description now \(quoted(d, limit: 160))"
        }
        return s
    }

    private var visibleNames: Set<String> {
        Set(tools.values.filter { $0.blocked == nil && Policy.mayList(agent: agent, server: $0.server, tool: $0.name) }.map(\.name))
    }

    // MARK: - Client side

    public mutating func fromClient(_ message: RPCMessage, now: Double, approved: (String) -> Bool = { _ in false }) -> [Effect] {
        if !ready {
            if case .request(let id, _, _) = message, queued.count >= options.maxQueued {
                return [.toClient(.error(id: id, code: RPCMessage.Code.internalError, message: "the gateway is still starting its servers", data: nil))]
            }
            queued.append(message)
            return []
        }
        return handle(message, now: now, approved: approved)
    }

    private mutating func drainQueue(now: Double) -> [Effect] {
        let q = queued
        queued = []
        return q.flatMap { handle($0, now: now, approved: { _ in false }) }
    }

    /// Lists again every ready upstream whose tools were last listed `relistSeconds` ago.
    private mutating func relistDue(now: Double) -> [Effect] {
        func due(_ u: Upstream) -> Bool { u.state == .ready && !u.relisting && now - u.listedAt >= config.relistSeconds }
        guard upstreams.values.contains(where: due) else { return [] }
        var out: [Effect] = []
        for (name, u) in upstreams.sorted(by: { $0.key < $1.key }) where due(u) {
            upstreams[name]?.relisting = true
            upstreams[name]?.restartListing()
            out.append(send(name, "tools/list", listParams(name, cursor: nil), .list(cursor: false)))
        }
        return out
    }

    private mutating func handle(_ message: RPCMessage, now: Double, approved: (String) -> Bool) -> [Effect] {
        let due = relistDue(now: now)
        return due + respond(message, now: now, approved: approved)
    }

    private mutating func respond(_ message: RPCMessage, now: Double, approved: (String) -> Bool) -> [Effect] {
        switch message {
        case .notification(let method, let params):
            // The client ends a subscription by cancelling its listen request.
            if method == "notifications/cancelled", let id = params?["requestId"], let closed = listens.removeValue(forKey: id) {
                return [.log("the client closed subscription \(id.canonical)")] + Set(closed.uris.values).sorted().flatMap { syncSubscriptions($0) }
            }
            return []
        case .result, .error:
            return [.log("the client answered a request the gateway never sent")]
        case .request(let id, let method, let params):
            // A modern request names its version in _meta; check it before anything else.
            if let v = Revision.modernVersion(in: params) {
                guard Revision.modernVersions.contains(v) else {
                    return [.toClient(.error(id: id, code: RPCMessage.Code.unsupportedVersion,
                                             message: "Unsupported protocol version: \(v)",
                                             data: ["supported": .array((Revision.modernVersions + Revision.handshakeVersions).map { .string($0) }), "requested": .string(v)]))]
                }
                client = .modern(v)
            } else if method != "initialize", client == nil || client!.isModern {
                return [.toClient(.error(id: id, code: RPCMessage.Code.invalidRequest,
                                         message: "send initialize first, or name a protocol version in _meta (2026-07-28)", data: nil))]
            }
            switch method {
            case "initialize":
                let asked = params?["protocolVersion"]?.string ?? ""
                let version = Revision.handshakeVersions.contains(asked) ? asked : Revision.latestHandshake
                client = .handshake(version)
                return [.toClient(.result(id: id, result: [
                    "protocolVersion": .string(version),
                    "capabilities": offeredCapabilities,
                    "serverInfo": ["name": .string(options.serverName), "version": "0.1.0"],
                    "instructions": "Tools here pass through the Vigil MCP gateway: calls are checked against policy and audited.",
                ]))]
            case "server/discover":
                return [.toClient(.result(id: id, result: clientResult([
                    "supportedVersions": .array((Revision.modernVersions + Revision.handshakeVersions).map { .string($0) }),
                    "capabilities": offeredCapabilities,
                    "ttlMs": 0, "cacheScope": "private",
                    "_meta": [Revision.Meta.serverInfo: ["name": .string(options.serverName), "version": "0.1.0"]],
                ])))]
            case "ping" where !(client?.isModern ?? false):
                return [.toClient(.result(id: id, result: [:]))]
            case "tools/list":
                let offered = tools.values.filter { $0.blocked == nil && Policy.mayList(agent: agent, server: $0.server, tool: $0.name) }
                    .sorted { $0.name < $1.name }
                    .map { t -> JSONValue in var d = t.definition.object ?? [:]; d["_meta"] = nil; return .object(d) }
                return [.toClient(.result(id: id, result: clientResult(["tools": .array(offered), "ttlMs": 0, "cacheScope": "private"])))]
            case "tools/call":
                return call(id: id, params: params, now: now, approved: approved)
            case "prompts/list":
                return gather(.prompts, id: id)
            case "resources/list":
                return gather(.resources, id: id)
            case "resources/templates/list":
                return gather(.templates, id: id)
            case "prompts/get":
                return getPrompt(id: id, params: params, now: now)
            case "resources/read":
                return readResource(id: id, params: params, now: now)
            case "completion/complete":
                return complete(id: id, params: params, now: now)
            case "subscriptions/listen" where client?.isModern ?? false:
                guard let wanted = params?["notifications"], wanted.object != nil else {
                    return [.toClient(.error(id: id, code: RPCMessage.Code.invalidParams, message: "subscriptions/listen needs a notifications filter", data: nil))]
                }
                guard listens[id] == nil else {
                    return [.toClient(.error(id: id, code: RPCMessage.Code.invalidRequest, message: "a subscription with id \(id.canonical) is already open", data: nil))]
                }
                guard listens.count < options.maxListens else {
                    return [.toClient(.error(id: id, code: RPCMessage.Code.internalError, message: "Subscription limit reached (\(options.maxListens))", data: nil))]
                }
                return listen(id: id, wanted: wanted, now: now)
            case "resources/subscribe" where !(client?.isModern ?? false):
                return subscribeResource(id: id, params: params, now: now)
            case "resources/unsubscribe" where !(client?.isModern ?? false):
                return unsubscribeResource(id: id, params: params)
            default:
                return [.toClient(.error(id: id, code: RPCMessage.Code.methodNotFound, message: "Method not found: \(method)", data: nil))]
            }
        }
    }

    /// A result in the client's era: modern results carry `resultType`, older ones do not.
    func clientResult(_ o: [String: JSONValue]) -> JSONValue {
        var r = o
        if client?.isModern ?? false { r["resultType"] = r["resultType"] ?? "complete" }
        else { r["resultType"] = nil; r["ttlMs"] = nil; r["cacheScope"] = nil }
        return .object(r)
    }

    private mutating func call(id: JSONValue, params: JSONValue?, now: Double, approved: (String) -> Bool) -> [Effect] {
        guard let name = params?["name"]?.string else {
            return [.toClient(.error(id: id, code: RPCMessage.Code.invalidParams, message: "tools/call needs a tool name", data: nil))]
        }
        let arguments = params?["arguments"] ?? [:]
        guard let args = arguments.object else {
            return [.toClient(.error(id: id, code: RPCMessage.Code.invalidParams, message: "arguments must be an object", data: nil))]
        }
        func refuse(_ code: Int, _ decision: String, _ reason: String, server: String?, findings: [Finding] = [], data: JSONValue? = nil) -> [Effect] {
            var e: [String: JSONValue] = ["tool": .string(name), "decision": .string(decision), "reason": .string(reason)]
            if let server { e["server"] = .string(server) }
            if !findings.isEmpty { e["findings"] = .array(findings.map(\.json)) }
            return [.audit(entry("call", now: now, e, arguments: arguments)),
                    .toClient(.error(id: id, code: code, message: "Vigil gateway: \(reason)", data: data))]
        }
        guard let tool = tools[name] else {
            return refuse(RPCMessage.Code.invalidParams, "deny", "no tool named \(name) is offered to this agent", server: nil)
        }
        if let blocked = tool.blocked {
            return refuse(RPCMessage.Code.denied, "deny", "\(name) is blocked: \(blocked)", server: tool.server)
        }
        let server = tool.server
        // A retry after input_required must bring back what the gateway passed on, once.
        let responses = params?["inputResponses"], state = params?["requestState"]
        if responses != nil || state != nil {
            let stateHash = state?.string.map { Sodium.sha256Hex($0) }
            let keys = Set(responses?.object?.keys ?? [:].keys)
            guard state == nil || stateHash != nil, responses == nil || responses?.object != nil,
                  let i = openInputRounds.lastIndex(where: { $0.server == server && $0.tool == name && $0.stateSHA256 == stateHash && keys.isSubset(of: $0.keys) }) else {
                let f = Finding(.protocolViolation, .high, channel: "input-responses",
                                "\(agent.name) retried \(name) with input \(server) did not ask for in this session (a forged or replayed requestState or inputResponses)")
                return note(f, server: server, tool: name, now: now) + refuse(RPCMessage.Code.denied, "deny", f.detail, server: server)
            }
            openInputRounds.remove(at: i)
        }
        if inFlight >= options.maxInFlight {
            return refuse(RPCMessage.Code.internalError, "deny", "too many calls in flight", server: server)
        }
        guard rate.admit(agent: agent.name, rate: agent.rate, now: now) else {
            let f = Finding(.rateLimited, .medium, channel: "arguments", "\(agent.name) is over its rate of \(agent.rate!.calls) calls per \(Int(agent.rate!.perSeconds)) s")
            return note(f, server: server, tool: name, now: now) + refuse(RPCMessage.Code.denied, "deny", f.detail, server: server)
        }
        let decision = Policy.decide(agent: agent, server: server, tool: name, arguments: args)
        if case .deny(let why) = decision {
            let f = Finding(.policyDenied, .medium, channel: "arguments", why)
            return note(f, server: server, tool: name, now: now) + refuse(RPCMessage.Code.denied, "deny", why, server: server)
        }
        let labels = config.servers[server]?.labels(of: name) ?? []
        let (found, blockers) = outbound(arguments, responses: responses, labels: labels, name: name)
        var out: [Effect] = []
        for f in found { out += note(f, server: server, tool: name, now: now) }
        if !blockers.isEmpty {
            return out + refuse(RPCMessage.Code.denied, "deny", blockers.map(\.detail).joined(separator: "; "), server: server, findings: blockers)
        }
        if Policy.needsApproval(agent: agent, server: server, tool: name) {
            let key = Sodium.sha256Hex([agent.name, server, name, arguments.canonical].joined(separator: "\u{1F}"))
            if !approved(key) {
                out.append(.held(key: key, call: ["agent": .string(agent.name), "server": .string(server), "tool": .string(name),
                                                  "arguments": arguments, "time": .double(now)]))
                return out + refuse(RPCMessage.Code.heldForApproval, "hold", "\(name) waits for a person: vigil mcp approve \(key.prefix(16))", server: server,
                                    data: ["approval": .string(key)])
            }
        }
        inFlight += 1
        let upstream = upstreams[server]?.revision ?? .handshake(Revision.latestHandshake)
        var p = upstream.upstreamParams(params, clientName: options.serverName)?.object ?? [:]
        // A modern server asks only for input the client can give: the client's capabilities,
        // cut to the input kinds this agent's policy allows, go with the call.
        if upstream.isModern, var meta = p["_meta"]?.object,
           let caps = Revision.modernCapabilities(in: params)?.object {
            meta[Revision.Meta.clientCapabilities] = .object(caps.filter { k, _ in
                GatewayConfig.InputKind(rawValue: k).map { agent.input.contains($0) } ?? false })
            p["_meta"] = .object(meta)
        }
        p["name"] = .string(name)
        p["arguments"] = arguments
        out.append(send(server, "tools/call", .object(p), .call(clientID: id, tool: name, arguments: arguments, started: now)))
        return out
    }

    /// What leaves with a call: secrets and personal data in its arguments (and in answers to a
    /// server's questions), and private data read earlier flowing out (the trifecta). Returns
    /// every finding and those that refuse the call.
    func outbound(_ arguments: JSONValue, responses: JSONValue?, labels: Set<DataLabel>, name: String) -> (found: [Finding], blockers: [Finding]) {
        var found = leaks.check(arguments, channel: "arguments")
        // Answers to a server's questions leave for that server just as arguments do.
        if let responses { found += leaks.check(responses, channel: "input-responses") }
        // Personal data to a tool that only works locally is noted, not refused.
        let refusing = found.filter { $0.kind == .secret || labels.contains(.outbound) }
        if let f = flow.check(arguments: arguments, labels: labels, tool: name) { found.append(f) }
        if let responses, let f = flow.check(arguments: responses, labels: labels, tool: name) { found.append(f) }
        return (found, refusing + found.filter { $0.kind == .trifecta && $0.severity == .critical })
    }

    // MARK: - Audit

    mutating func note(_ f: Finding, server: String?, tool: String?, now: Double) -> [Effect] {
        var e: [String: JSONValue] = ["finding": f.json]
        if let server { e["server"] = .string(server) }
        if let tool { e["tool"] = .string(tool) }
        return [.audit(entry("alert", now: now, e)), .log("\(f.severity.name): \(f.kind.rawValue): \(f.detail)")]
    }

    /// The audit entry of a call that reached its server: what is known of the call, and how it ended.
    func callEntry(_ base: AuditEntry, _ outcome: String, _ extra: [String: JSONValue], now: Double) -> Effect {
        var e = base.fields
        e["outcome"] = .string(outcome)
        e.merge(extra) { _, new in new }
        return .audit(entry("call", now: now, e, arguments: base.arguments))
    }

    func entry(_ event: String, now: Double, _ fields: [String: JSONValue], arguments: JSONValue? = nil) -> AuditEntry {
        var o = fields
        o["event"] = .string(event)
        o["agent"] = .string(agent.name)
        o["time"] = .double((now * 1000).rounded() / 1000)
        return AuditEntry(fields: o, arguments: arguments)
    }
}
