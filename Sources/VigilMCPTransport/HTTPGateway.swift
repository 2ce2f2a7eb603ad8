import Foundation
import VigilHTTP
import VigilMCP

/// `vigil mcp proxy --listen`: the gateway as a Streamable HTTP MCP endpoint on libmicrohttpd.
/// Every request carries an agent's bearer token (RFC 6750): a static token whose SHA-256 the
/// configuration holds, or, with an `oauth` section, an access token (JWT) from the team's
/// authorization server whose agent claim names an agent's `subject`. The endpoint publishes its
/// OAuth protected-resource metadata (RFC 9728) naming that server. No agent token is passed on
/// upstream. Both eras are served on the one endpoint:
/// - 2025-11-25: `initialize` opens a session (`Mcp-Session-Id`, its own upstream processes),
///   DELETE ends it; a session answers only the agent that opened it.
/// - 2026-07-28: no sessions; `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` must match the
///   body (else 400 with -32020); each agent has one session that spans its requests.
/// Replies are single JSON bodies, except two streams (server-sent events): a 2025-11-25
/// session's GET stream, which carries its notifications (a changed tool list), and a 2026-07-28
/// `subscriptions/listen`, whose answer is the stream of what it subscribed to. Closing either
/// ends it; closing a listen stream cancels that subscription in the session.
public final class HTTPGateway: @unchecked Sendable {
    public struct Options: Sendable {
        public var address = "127.0.0.1"
        public var port: UInt16 = 0
        public var path = "/mcp"
        /// Browser origins allowed to call; any other Origin header gets 403 (DNS rebinding).
        public var allowedOrigins: [String] = []
        public var maxSessions = 32
        public var idleSeconds: Double = 1800
        public var replyTimeout: Double = 300
        /// PEM text of a private key and certificate chain: both set means HTTPS.
        public var tlsKey: String?
        public var tlsCertificate: String?
        public init() {}
    }

    struct Reply {
        var status: UInt32
        var body: String
        var headers: [(String, String)] = []
        var stream: HTTPStream? = nil
    }

    private let config: GatewayConfig
    private let setup: GatewaySetup
    private let options: Options
    private let issuerKeys: IssuerKeys?
    private let introspection: TokenIntrospection?
    private let clock: @Sendable () -> Double
    private let lock = NSLock()
    private var sessions: [String: GatewaySession] = [:]     // 2025-11-25, by session id
    private var modern: [String: GatewaySession] = [:]       // 2026-07-28, by agent
    private var waiters: [String: Waiter] = [:]
    /// Open listen streams, by the gateway's id of their request.
    private var listenStreams: [String: ListenStream] = [:]
    /// Each session's notifications, for its GET stream (2025-11-25).
    private var notificationHubs: [ObjectIdentifier: EventHub] = [:]
    private var counter = 0
    public private(set) var port: UInt16 = 0

    final class Waiter: @unchecked Sendable {
        let original: JSONValue
        let done = DispatchSemaphore(value: 0)
        var reply: RPCMessage?
        init(original: JSONValue) { self.original = original }
    }

    public init(config: GatewayConfig, options: Options, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) throws {
        self.config = config
        self.options = options
        self.clock = clock
        setup = try GatewaySetup(config: config)
        let now = clock()
        issuerKeys = try config.oauth.flatMap { o in try o.jwks.map { try IssuerKeys(settings: o, source: $0, now: now) } }
        introspection = try config.oauth.flatMap { o in try o.introspection.map { try TokenIntrospection(settings: o, introspection: $0) } }
    }

    /// Binds and serves until SIGTERM or SIGINT; prints the endpoint to stderr once listening.
    public func run() throws -> Int32 {
        var o = HTTPServer.Options()
        o.address = options.address
        o.port = options.port
        o.maxConnections = 256
        o.maxBodyBytes = config.maxMessageBytes
        o.tlsKey = options.tlsKey
        o.tlsCertificate = options.tlsCertificate
        let server = HTTPServer(options: o) { [unowned self] request in
            let reply = self.handle(method: request.method, path: request.path, header: { request.header($0) },
                                    repeated: request.repeatedHeaders, body: request.body, tooBig: request.bodyTooLarge)
            return HTTPResponse(status: reply.status, headers: reply.headers, body: Array(reply.body.utf8), stream: reply.stream)
        }
        do { try server.start() } catch {
            throw MCPError.policy("cannot listen on \(options.address):\(options.port) (\(error))", place: "--listen")
        }
        port = server.port
        logLine("listening on \(scheme)://\(options.address):\(port)\(options.path)")
        TerminationSignals().wait()
        server.stop()
        lock.lock()
        let all = Array(sessions.values) + Array(modern.values)
        let hubs = Array(notificationHubs.values), listening = Array(listenStreams.values)
        sessions = [:]; modern = [:]; notificationHubs = [:]; listenStreams = [:]
        lock.unlock()
        hubs.forEach { $0.closeAll() }
        listening.forEach { $0.end() }
        all.forEach { $0.stop() }
        return 0
    }

    // MARK: - Requests

    func handle(method: String, path: String, header: (String) -> String?, repeated: Set<String> = [], body: [UInt8], tooBig: Bool) -> Reply {
        let resource = "\(scheme)://\(options.address):\(port)\(options.path)"
        if path == "/.well-known/oauth-protected-resource" || path == "/.well-known/oauth-protected-resource" + options.path {
            var doc: [String: JSONValue] = ["resource": .string(resource), "bearer_methods_supported": ["header"],
                                            "authorization_servers": .array(config.oauth.map { [.string($0.issuer)] } ?? []),
                                            "resource_name": "Vigil MCP gateway"]
            if let scope = config.oauth?.scope { doc["scopes_supported"] = [.string(scope)] }
            return Reply(status: 200, body: JSONValue.object(doc).canonical, headers: [("Content-Type", "application/json")])
        }
        guard path == options.path else { return Reply(status: 404, body: "") }
        if let origin = header("Origin"), !options.allowedOrigins.contains(origin) {
            return jsonError(403, .null, RPCMessage.Code.invalidRequest, "Origin \(origin) is not allowed")
        }
        let auth = header("Authorization") ?? ""
        let token = auth.hasPrefix("Bearer ") ? String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces) : ""
        let metadata = "\(scheme)://\(options.address):\(port)/.well-known/oauth-protected-resource"
        func refused(_ status: UInt32, _ why: String, error: String?, scope: String? = nil) -> Reply {
            var r = jsonError(status, .null, RPCMessage.Code.invalidRequest, why)
            var challenge = "Bearer resource_metadata=\"\(metadata)\""
            if let error { challenge += ", error=\"\(error)\", error_description=\"\(Self.quotable(why))\"" }
            if let scope { challenge += ", scope=\"\(Self.quotable(scope))\"" }
            r.headers.append(("WWW-Authenticate", challenge))
            return r
        }
        guard !token.isEmpty else { return refused(401, "a bearer token is required", error: nil) }
        let agent: GatewayConfig.Agent
        if let staticAgent = config.agent(forTokenSHA256: Sodium.sha256Hex(token)) {
            agent = staticAgent
        } else if let settings = config.oauth {
            // A JWT with the issuer's keys at hand is checked here; anything else is introspected.
            let checked: Result<AccessTokenVerifier.Claims, AccessTokenVerifier.Refusal>
            if let keys = issuerKeys, AccessTokenVerifier.looksLikeJWT(token) || introspection == nil {
                checked = keys.verify(token, audience: resource, now: clock())
            } else if let introspection {
                switch introspection.check(token, audience: resource, now: clock()) {
                case .unavailable(let why):
                    return jsonError(503, .null, RPCMessage.Code.internalError, "the access token could not be checked: \(why)")
                case .refused(let r): checked = .failure(r)
                case .claims(let c): checked = .success(c)
                }
            } else {
                return refused(401, "the bearer token is not valid", error: "invalid_token")
            }
            switch checked {
            case .failure(let r) where r.insufficientScope:
                return refused(403, r.reason, error: "insufficient_scope", scope: settings.scope)
            case .failure(let r):
                return refused(401, "the access token is not valid: \(r.reason)", error: "invalid_token")
            case .success(let claims):
                guard let a = config.agent(forSubject: claims.subject) else {
                    return refused(401, "the access token's \(settings.agentClaim) \(claims.subject) names no agent", error: "invalid_token")
                }
                agent = a
            }
        } else {
            return refused(401, "the bearer token is not valid", error: "invalid_token")
        }
        switch method {
        case "POST": break
        case "GET":
            // The 2025-11-25 session's stream; the modern era has none (405, as it specifies).
            guard let id = header("Mcp-Session-Id") else { return Reply(status: 405, body: "", headers: [("Allow", "POST")]) }
            guard (header("Accept") ?? "").contains("text/event-stream") else {
                return jsonError(406, .null, RPCMessage.Code.invalidRequest, "the GET stream needs Accept: text/event-stream")
            }
            lock.lock()
            let s = sessions[id]
            let hub = s.flatMap { notificationHubs[ObjectIdentifier($0)] }
            lock.unlock()
            guard let s, s.agent == agent.name, let hub else { return Reply(status: 404, body: "") }
            return Reply(status: 200, body: "", headers: Self.streamHeaders, stream: hub.subscribe())
        case "DELETE":
            guard let id = header("Mcp-Session-Id") else { return Reply(status: 405, body: "", headers: [("Allow", "POST")]) }
            lock.lock()
            let s = sessions[id]
            if s?.agent == agent.name { sessions[id] = nil }
            let hub = s.flatMap { notificationHubs.removeValue(forKey: ObjectIdentifier($0)) }
            lock.unlock()
            guard let s, s.agent == agent.name else { return Reply(status: 404, body: "") }
            hub?.closeAll()
            s.stop()
            return Reply(status: 204, body: "")
        default:
            return Reply(status: 405, body: "", headers: [("Allow", "GET, POST, DELETE")])
        }
        if tooBig { return jsonError(413, .null, RPCMessage.Code.invalidRequest, "the message is over \(config.maxMessageBytes) bytes") }
        let message: RPCMessage
        do { message = try RPCMessage.decode(try JSONValue.parse(Data(body))) } catch let e as MCPError {
            return jsonError(400, .null, e.isParse ? RPCMessage.Code.parseError : RPCMessage.Code.invalidRequest, e.description)
        } catch { return jsonError(400, .null, RPCMessage.Code.parseError, "unreadable") }

        let headerVersion = header("MCP-Protocol-Version")
        let bodyVersion = Revision.modernVersion(in: message.params)
        let isModern = bodyVersion != nil || headerVersion.map { !Revision.handshakeVersions.contains($0) && header("Mcp-Session-Id") == nil && message.method != "initialize" } == true
        if isModern { return modernRequest(message, agent: agent, headerVersion: headerVersion, bodyVersion: bodyVersion, header: header, repeated: repeated) }
        return handshakeRequest(message, agent: agent, headerVersion: headerVersion, header: header)
    }

    private func modernRequest(_ message: RPCMessage, agent: GatewayConfig.Agent, headerVersion: String?, bodyVersion: String?,
                               header: (String) -> String?, repeated: Set<String>) -> Reply {
        let id = message.requestID ?? .null
        guard case .request(_, let method, let params) = message else {
            if case .notification = message { return Reply(status: 202, body: "") }
            return jsonError(400, .null, RPCMessage.Code.invalidRequest, "clients send requests and notifications only")
        }
        guard let hv = headerVersion else { return jsonError(400, id, RPCMessage.Code.headerMismatch, "Header mismatch: MCP-Protocol-Version header is required") }
        guard hv == bodyVersion else {
            return jsonError(400, id, RPCMessage.Code.headerMismatch, "Header mismatch: MCP-Protocol-Version header value '\(hv)' does not match body value '\(bodyVersion ?? "")'")
        }
        guard Revision.modernVersions.contains(hv) else {
            let data: JSONValue = ["supported": .array((Revision.modernVersions + Revision.handshakeVersions).map { .string($0) }), "requested": .string(hv)]
            return Reply(status: 400, body: RPCMessage.error(id: id, code: RPCMessage.Code.unsupportedVersion, message: "Unsupported protocol version: \(hv)", data: data).line,
                         headers: [("Content-Type", "application/json")])
        }
        guard header("Mcp-Method") == method else {
            return jsonError(400, id, RPCMessage.Code.headerMismatch, "Header mismatch: Mcp-Method header value '\(header("Mcp-Method") ?? "")' does not match body value '\(method)'")
        }
        if ["tools/call", "prompts/get", "resources/read"].contains(method) {
            let bodyName = params?["name"]?.string ?? params?["uri"]?.string ?? ""
            guard let raw = header("Mcp-Name"), let name = Self.decodeSentinel(raw), name == bodyName else {
                return jsonError(400, id, RPCMessage.Code.headerMismatch, "Header mismatch: Mcp-Name header value '\(header("Mcp-Name") ?? "")' does not match body value '\(bodyName)'")
            }
        }
        lock.lock()
        var session = modern[agent.name]
        lock.unlock()
        if session == nil {
            do { session = try openSession(agent: agent) } catch { return jsonError(503, id, RPCMessage.Code.internalError, "\(error)") }
            lock.lock(); modern[agent.name] = session; lock.unlock()
        }
        guard let session else { return jsonError(503, id, RPCMessage.Code.internalError, "no session") }
        // Mcp-Param-* headers must agree with the arguments of the tool's marked properties.
        if method == "tools/call", let name = params?["name"]?.string, let schema = session.inputSchema(of: name),
           let problem = ParamHeaders.mismatch(schema: schema, arguments: params?["arguments"], header: header, repeated: repeated, decode: Self.decodeSentinel) {
            return jsonError(400, id, RPCMessage.Code.headerMismatch, "Header mismatch: \(problem)")
        }
        if method == "subscriptions/listen" { return listen(message, session: session) }
        var reply = exchange(message, session: session)
        if reply.body.contains("\"code\":\(RPCMessage.Code.methodNotFound)") { reply.status = 404 }
        if reply.body.contains("\"code\":\(RPCMessage.Code.unsupportedVersion)") { reply.status = 400 }
        return reply
    }

    private func handshakeRequest(_ message: RPCMessage, agent: GatewayConfig.Agent, headerVersion: String?, header: (String) -> String?) -> Reply {
        let id = message.requestID ?? .null
        if let hv = headerVersion, !Revision.handshakeVersions.contains(hv) {
            return jsonError(400, id, RPCMessage.Code.invalidRequest, "Unsupported MCP-Protocol-Version: \(hv)")
        }
        if message.method == "initialize", header("Mcp-Session-Id") == nil {
            let session: GatewaySession
            do { session = try openSession(agent: agent) } catch { return jsonError(503, id, RPCMessage.Code.internalError, "\(error)") }
            let sid = Sodium.hex(Sodium.random(16))
            lock.lock(); sessions[sid] = session; lock.unlock()
            var r = exchange(message, session: session)
            r.headers.append(("Mcp-Session-Id", sid))
            return r
        }
        guard let sid = header("Mcp-Session-Id") else {
            return jsonError(400, id, RPCMessage.Code.invalidRequest, "Mcp-Session-Id is required after initialize")
        }
        lock.lock(); let s = sessions[sid]; lock.unlock()
        guard let session = s, session.agent == agent.name else {
            return jsonError(404, id, RPCMessage.Code.invalidRequest, "no such session")
        }
        switch message {
        case .notification: session.receive(message); return Reply(status: 202, body: "")
        case .result, .error: return Reply(status: 202, body: "")
        case .request: return exchange(message, session: session)
        }
    }

    /// Opens a session with its own upstream processes, closing the longest idle first when full.
    private func openSession(agent: GatewayConfig.Agent) throws -> GatewaySession {
        var evict: [GatewaySession] = []
        var hubs: [EventHub] = []
        lock.lock()
        let now = clock()
        for (k, s) in sessions where now - s.lastUsed > options.idleSeconds { sessions[k] = nil; evict.append(s) }
        if sessions.count + modern.count >= options.maxSessions, let oldest = sessions.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
            sessions[oldest.key] = nil; evict.append(oldest.value)
        }
        for s in evict { if let h = notificationHubs.removeValue(forKey: ObjectIdentifier(s)) { hubs.append(h) } }
        lock.unlock()
        hubs.forEach { $0.closeAll() }
        evict.forEach { $0.stop() }
        let hub = EventHub(queueLimit: 256, keepAliveSeconds: 15)
        let session = try GatewaySession(config: config, agent: agent, lockfile: setup.lockfile, audit: setup.audit, clock: clock,
                                         toClient: { [weak self] m in self?.deliver(m, notifications: hub) })
        lock.lock(); notificationHubs[ObjectIdentifier(session)] = hub; lock.unlock()
        try session.start()
        return session
    }

    /// Sends a request into a session under an id of the gateway's own (clients of one agent may
    /// reuse ids) and waits for its answer.
    private func exchange(_ message: RPCMessage, session: GatewaySession) -> Reply {
        guard case .request(let original, let method, let params) = message else { session.receive(message); return Reply(status: 202, body: "") }
        lock.lock()
        counter += 1
        let key = "h\(counter)"
        let w = Waiter(original: original)
        waiters[key] = w
        lock.unlock()
        session.receive(.request(id: .string(key), method: method, params: params))
        let ok = w.done.wait(timeout: .now() + options.replyTimeout) == .success
        lock.lock(); waiters[key] = nil; lock.unlock()
        guard ok, let reply = w.reply else { return jsonError(504, original, RPCMessage.Code.internalError, "no answer within \(Int(options.replyTimeout)) s") }
        return Reply(status: 200, body: restore(reply, to: original).line, headers: [("Content-Type", "application/json")])
    }

    /// A subscription: the answer is a stream, opened before the request goes in so the
    /// acknowledgement (the first message on it) cannot be missed.
    private func listen(_ message: RPCMessage, session: GatewaySession) -> Reply {
        guard case .request(let original, let method, let params) = message else { return Reply(status: 202, body: "") }
        lock.lock()
        counter += 1
        let key = "h\(counter)"
        let stream = ListenStream(original: original) { [weak self, weak session] in
            guard let self else { return }
            self.lock.lock(); let was = self.listenStreams.removeValue(forKey: key); self.lock.unlock()
            // The client went away: the subscription is cancelled in the session.
            if was != nil { session?.receive(.notification(method: "notifications/cancelled", params: ["requestId": .string(key), "reason": "the stream closed"])) }
        }
        listenStreams[key] = stream
        lock.unlock()
        session.receive(.request(id: .string(key), method: method, params: params))
        return Reply(status: 200, body: "", headers: Self.streamHeaders, stream: stream)
    }

    private func deliver(_ m: RPCMessage, notifications hub: EventHub) {
        switch m {
        case .result(let i, _), .error(let i, _, _, _):
            guard let id = i.string else { return }
            lock.lock()
            let w = waiters[id]
            let s = w == nil ? listenStreams.removeValue(forKey: id) : nil
            lock.unlock()
            if let s {
                // The subscription ended (refused, or closed by the gateway): its last message.
                s.send(restore(m, to: s.original)); s.end()
                return
            }
            w?.reply = m
            w?.done.signal()
        case .notification(let method, let params):
            if let sub = params?["_meta"]?[Revision.Meta.subscriptionID]?.string {
                lock.lock(); let s = listenStreams[sub]; lock.unlock()
                guard let s else { return }
                var p = params?.object ?? [:]
                var meta = p["_meta"]?.object ?? [:]
                meta[Revision.Meta.subscriptionID] = s.original
                p["_meta"] = .object(meta)
                s.send(.notification(method: method, params: .object(p)))
            } else {
                hub.publish(event: "message", data: m.line)
            }
        case .request:
            return
        }
    }

    private func restore(_ reply: RPCMessage, to original: JSONValue) -> RPCMessage {
        switch reply {
        case .result(_, let r): return .result(id: original, result: r)
        case .error(_, let c, let m, let d): return .error(id: original, code: c, message: m, data: d)
        default: return reply
        }
    }

    static let streamHeaders = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")]

    private var scheme: String { options.tlsKey != nil && options.tlsCertificate != nil ? "https" : "http" }

    private func jsonError(_ status: UInt32, _ id: JSONValue, _ code: Int, _ message: String) -> Reply {
        Reply(status: status, body: RPCMessage.error(id: id, code: code, message: message, data: nil).line,
              headers: [("Content-Type", "application/json")])
    }

    /// Text safe inside a quoted header parameter.
    static func quotable(_ s: String) -> String {
        String(s.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" }.prefix(200).map(Character.init))
    }

    /// `=?base64?...?=` header values decoded; plain values as they are.
    static func decodeSentinel(_ v: String) -> String? {
        guard v.hasPrefix("=?base64?"), v.hasSuffix("?=") else { return v }
        let inner = String(v.dropFirst(9).dropLast(2))
        guard let bytes = Sodium.fromBase64(inner) else { return nil }
        return String(bytes: bytes, encoding: .utf8)
    }
}

/// One `subscriptions/listen` answer as server-sent events: the client's own request id in every
/// message, a bounded queue (a client that stops reading loses the oldest; every event is a
/// "this changed, list again" and losing one loses nothing a later one does not repeat).
final class ListenStream: HTTPStream, @unchecked Sendable {
    let original: JSONValue
    private let hub = EventHub(queueLimit: 64, keepAliveSeconds: 15)
    private let events: EventSubscription
    private let closed: @Sendable () -> Void

    init(original: JSONValue, closed: @escaping @Sendable () -> Void) {
        self.original = original
        self.closed = closed
        events = hub.subscribe()
    }

    func send(_ m: RPCMessage) { hub.publish(event: "message", data: m.line) }
    /// Ends the stream from the gateway's side once what was sent has been read.
    func end() { events.finish() }

    func read(max: Int) -> [UInt8]? { events.read(max: max) }
    func close() { events.close(); closed() }
}
