import Foundation
import VigilAnalyst
import VigilCore
import VigilHTTP
import VigilStore

/// The REST API and the web console behind one handler. Every `/api/` route and `/metrics`
/// needs a bearer token whose role covers the route; the console's own files carry no data
/// and load without one (the console asks for a token). Every change is written to the
/// store's change log. Responses carry a strict Content-Security-Policy: the console builds
/// pages with DOM text nodes only, and no inline script may run even if markup slipped in.
public final class API: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var tokens: TokenTable
        public var maxPage = 500
        public var version = "vigil 0.1.0"
        /// Model names and what each finds, for /api/models.
        public var models: [(name: String, summary: String)] = []
        public init(tokens: [APIToken]) { self.tokens = TokenTable(tokens) }
    }

    let config: Configuration
    let pool: StorePool
    public let status: ServiceStatus
    public let events: EventHub
    let hash: @Sendable (String) -> String
    let clock: @Sendable () -> Timestamp
    private let lock = NSLock()
    private var requestCounts: [String: UInt64] = [:]
    /// Answers to GET requests for what only changes when the store's generation does (many
    /// analysts' consoles asking for the same incident list cost one query).
    private var cache: [String: HTTPResponse] = [:]
    private var cacheBytes = 0
    private var cacheGeneration: UInt64 = .max
    /// The cache's bound: answers beyond it are served fresh each time.
    static let cacheLimitBytes = 64 << 20
    static let cacheable: Set<String> = ["openapi.json", "incidents", "breaches", "devices", "models", "agents", "search", "reports"]

    static let securityHeaders: [(String, String)] = [
        ("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
    ]

    /// `hash` turns a presented token into the hex SHA-256 the configuration holds.
    public init(configuration: Configuration, pool: StorePool, status: ServiceStatus, events: EventHub,
                hash: @escaping @Sendable (String) -> String,
                clock: @escaping @Sendable () -> Timestamp = { Timestamp(seconds: Int64(Date().timeIntervalSince1970)) }) {
        config = configuration; self.pool = pool; self.status = status; self.events = events; self.hash = hash; self.clock = clock
    }

    // MARK: - Dispatch

    public func handle(_ r: HTTPRequest) -> HTTPResponse {
        var response = route(r)
        response.headers += Self.securityHeaders
        if r.path.hasPrefix("/api/") || r.path == "/metrics" { response.headers.append(("Cache-Control", "no-store")) }
        lock.lock(); requestCounts[String(response.status), default: 0] += 1; lock.unlock()
        return response
    }

    func route(_ r: HTTPRequest) -> HTTPResponse {
        if let asset = ConsoleAssets.file(r.path) {
            guard r.method == "GET" || r.method == "HEAD" else { return Self.error(405, "the console's files are read with GET", allow: "GET") }
            return HTTPResponse(status: 200, headers: [("Content-Type", asset.type), ("Cache-Control", "no-cache")], body: Array(asset.body.utf8))
        }
        if r.path == "/favicon.ico" { return HTTPResponse(status: 204) }
        guard r.path.hasPrefix("/api/") || r.path == "/metrics" else { return Self.error(404, "no such page") }
        // Who is asking.
        let auth = r.header("Authorization") ?? ""
        let secret = auth.lowercased().hasPrefix("bearer ") ? String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces) : ""
        guard !secret.isEmpty, let token = config.tokens.find(sha256: hash(secret)) else {
            var e = Self.error(401, secret.isEmpty ? "a bearer token is required (Authorization: Bearer TOKEN)" : "the token is not valid")
            e.headers.append(("WWW-Authenticate", "Bearer realm=\"vigil\"" + (secret.isEmpty ? "" : ", error=\"invalid_token\"")))
            return e
        }
        let parts = r.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if let twice = r.repeatedQuery.sorted().first { return Self.error(400, "the parameter '\(twice)' is given more than once") }
        do {
            return try dispatch(r, parts, token)
        } catch let e as RequestProblem {
            return Self.error(e.status, e.message, allow: e.allow)
        } catch {
            return Self.error(500, "the store could not answer: \(error)")
        }
    }

    struct RequestProblem: Error {
        var status: UInt32; var message: String; var allow: String?
        init(status: UInt32, message: String, allow: String? = nil) { self.status = status; self.message = message; self.allow = allow }
    }

    private func need(_ role: Role, _ t: APIToken) throws {
        guard t.role >= role else { throw RequestProblem(status: 403, message: "this needs the \(role.rawValue) role; the token '\(t.name)' is \(t.role.rawValue)") }
    }

    /// The request's method is one of `methods` (GET admits HEAD), else 405 with an Allow header.
    private func only(_ r: HTTPRequest, _ methods: String...) throws {
        guard methods.contains(r.method) || (methods.contains("GET") && r.method == "HEAD") else {
            let allow = (methods.contains("GET") ? methods + ["HEAD"] : methods).joined(separator: ", ")
            throw RequestProblem(status: 405, message: "\(r.method) is not allowed here; use \(methods.joined(separator: " or "))", allow: allow)
        }
    }

    /// Serves GETs of stored data from the cache while the generation holds, with an ETag
    /// (a matching If-None-Match gets 304).
    func dispatch(_ r: HTTPRequest, _ p: [String], _ t: APIToken) throws -> HTTPResponse {
        guard (r.method == "GET" || r.method == "HEAD"), p.count >= 2, Self.cacheable.contains(p[1]), !(p.count == 4 && p[3] == "status") else {
            return try answer(r, p, t)
        }
        let generation = status.snapshot.generation
        let key = r.path + "?" + r.query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        lock.lock()
        if cacheGeneration != generation { cache = [:]; cacheBytes = 0; cacheGeneration = generation }
        var response = cache[key]
        lock.unlock()
        if response == nil {
            var fresh = try answer(r, p, t)
            guard fresh.status == 200, fresh.stream == nil else { return fresh }
            fresh.headers.append(("ETag", "\"g\(generation)-\(String(FNV1a.hash(fresh.body), radix: 36))\""))
            lock.lock()
            if cacheGeneration == generation, cache.count < 512, cacheBytes + fresh.body.count <= Self.cacheLimitBytes {
                cache[key] = fresh
                cacheBytes += fresh.body.count
            }
            lock.unlock()
            response = fresh
        }
        guard let response else { throw RequestProblem(status: 500, message: "no answer") }
        if let tag = response.headers.first(where: { $0.0 == "ETag" })?.1, r.header("If-None-Match") == tag {
            return HTTPResponse(status: 304, headers: [("ETag", tag)])
        }
        return response
    }

    func answer(_ r: HTTPRequest, _ p: [String], _ t: APIToken) throws -> HTTPResponse {
        if p == ["metrics"] { try only(r, "GET"); return metrics() }
        guard p.count >= 2 else { throw RequestProblem(status: 404, message: "no such route") }
        switch (p[1], p.count) {
        case ("openapi.json", 2):
            try only(r, "GET")
            return HTTPResponse(status: 200, contentType: "application/json", text: OpenAPIDocument.json)
        case ("whoami", 2):
            try only(r, "GET")
            return try json(["name": t.name, "role": t.role.rawValue])
        case ("status", 2):
            try only(r, "GET")
            return try statusAnswer()
        case ("incidents", 2):
            try only(r, "GET")
            return try incidents(r)
        case ("incidents", 3):
            try only(r, "GET")
            return try incident(p[2])
        case ("incidents", 4) where p[3] == "status":
            try only(r, "GET", "PUT")
            if r.method != "PUT" { return try incidentStatus(p[2]) }
            try need(.analyst, t)
            return try setStatus(p[2], r, t)
        case ("breaches", 2):
            try only(r, "GET")
            return try breaches(r)
        case ("breaches", 3):
            try only(r, "GET")
            guard let b = try pool.with({ try $0.breach(id: p[2]) }) else { throw RequestProblem(status: 404, message: "no breach \(p[2])") }
            return try json(b)
        case ("devices", 2):
            try only(r, "GET")
            let (limit, offset) = try page(r)
            return try json(Page(items: try pool.with { try $0.deviceSummaries(limit: limit, offset: offset) }))
        case ("devices", 3):
            try only(r, "GET")
            return try device(p[2], r)
        case ("models", 2):
            try only(r, "GET")
            return try json(Page(items: config.models.map { ModelInfo(name: $0.name, summary: $0.summary) }))
        case ("agents", 2):
            try only(r, "GET")
            return try agents()
        case ("search", 2):
            try only(r, "GET")
            return try search(r)
        case ("events", 2):
            try only(r, "GET")
            return HTTPResponse(status: 200, headers: [("Content-Type", "text/event-stream"), ("X-Accel-Buffering", "no")], stream: events.subscribe())
        case ("audit", 2):
            try only(r, "GET")
            try need(.admin, t)
            let (limit, _) = try page(r)
            return try json(Page(items: try pool.with { try $0.auditEntries(limit: limit) }))
        case ("reports", 3):
            try only(r, "GET")
            return try report(p[2])
        default:
            throw RequestProblem(status: 404, message: "no such route: \(r.path)")
        }
    }

    // MARK: - Routes

    /// The status as JSON, encoded at most every quarter second (a dashboard polling it from
    /// many consoles costs one encoding per quarter second, not one per request).
    private var statusBody: (at: UInt64, body: [UInt8])?

    func statusAnswer() throws -> HTTPResponse {
        let now = DispatchTime.now().uptimeNanoseconds
        lock.lock()
        if let c = statusBody, now &- c.at < 250_000_000 { lock.unlock(); return HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: c.body) }
        lock.unlock()
        let body = Array(try Self.encoder.encode(status.snapshot))
        lock.lock(); statusBody = (now, body); lock.unlock()
        return HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: body)
    }

    struct Page<T: Encodable>: Encodable {
        var items: [T]
        var count: Int
        init(items: [T]) { self.items = items; count = items.count }
    }

    struct ModelInfo: Encodable { var name: String; var summary: String }

    /// An incident as lists show it: the write-up's headline fields and a person's decision.
    struct IncidentItem: Encodable {
        var id: String, title: String, score: Double, start: Timestamp, end: Timestamp
        var devices: [String], deviceNames: [String: String], endpoints: [String], techniques: [String], tactics: [String]
        var summary: String, breaches: Int, alerts: Int, status: String
    }

    struct IncidentDetail: Encodable {
        var incident: Incident
        var status: IncidentStatus?
        var relatedBreaches: [Breach]
    }

    func incidents(_ r: HTTPRequest) throws -> HTTPResponse {
        let (limit, offset) = try page(r)
        let wanted = r.query["status"]
        if let w = wanted, !IncidentStatus.states.contains(w) { throw RequestProblem(status: 400, message: "status is one of \(IncidentStatus.states.joined(separator: ", "))") }
        let (all, statuses) = try pool.with { s in (try s.incidents(), try s.incidentStatuses()) }
        let items = all.compactMap { i -> IncidentItem? in
            let st = statuses[i.id]?.status ?? "open"
            if let w = wanted, w != st { return nil }
            return IncidentItem(id: i.id, title: i.title, score: i.priority, start: i.start, end: i.end, devices: i.devices, deviceNames: i.deviceNames,
                                endpoints: i.endpoints, techniques: i.techniques, tactics: i.tactics, summary: i.summary,
                                breaches: i.breaches.count, alerts: i.alerts.count, status: st)
        }
        return try json(Page(items: Array(items.dropFirst(offset).prefix(limit))))
    }

    func incident(_ id: String) throws -> HTTPResponse {
        let found = try pool.with { s -> IncidentDetail? in
            guard let i = try s.incident(id: id) else { return nil }
            return IncidentDetail(incident: i, status: try s.incidentStatuses()[id], relatedBreaches: try s.breaches(ids: i.breaches))
        }
        guard let found else { throw RequestProblem(status: 404, message: "no incident \(id)") }
        return try json(found)
    }

    func incidentStatus(_ id: String) throws -> HTTPResponse {
        let st = try pool.with { s -> IncidentStatus? in
            guard try s.incident(id: id) != nil else { throw RequestProblem(status: 404, message: "no incident \(id)") }
            return try s.incidentStatuses()[id]
        }
        return try json(st ?? IncidentStatus(status: "open", note: "", updatedAt: Timestamp(nanoseconds: 0), updatedBy: ""))
    }

    /// `{"status": ..., "note": ...}`; a note that is present must be a string (not null).
    struct StatusChange: Decodable {
        var status: String
        var note: String?
        enum Keys: String, CodingKey { case status, note }
        init(from d: any Decoder) throws {
            let c = try d.container(keyedBy: Keys.self)
            status = try c.decode(String.self, forKey: .status)
            if c.contains(.note) { note = try c.decode(String.self, forKey: .note) }
        }
    }

    func setStatus(_ id: String, _ r: HTTPRequest, _ t: APIToken) throws -> HTTPResponse {
        guard !r.bodyTooLarge else { throw RequestProblem(status: 413, message: "the body is too large") }
        let change: StatusChange
        do { change = try JSONDecoder().decode(StatusChange.self, from: Data(r.body)) } catch {
            throw RequestProblem(status: 400, message: "the body must be JSON like {\"status\": \"acknowledged\", \"note\": \"...\"}")
        }
        guard IncidentStatus.states.contains(change.status) else {
            throw RequestProblem(status: 400, message: "status is one of \(IncidentStatus.states.joined(separator: ", "))")
        }
        let note = change.note ?? ""
        guard note.count <= 2000 else { throw RequestProblem(status: 400, message: "a note is at most 2000 characters") }
        let st = IncidentStatus(status: change.status, note: note, updatedAt: clock(), updatedBy: t.name)
        try pool.with { s in
            guard try s.incident(id: id) != nil else { throw RequestProblem(status: 404, message: "no incident \(id)") }
            try s.setIncidentStatus(id, st, role: t.role.rawValue)
        }
        status.update { $0.generation += 1 }
        events.publish(event: "incident.status", data: String(decoding: try Self.encoder.encode(["id": id, "status": st.status, "by": t.name]), as: UTF8.self))
        return try json(st)
    }

    func breaches(_ r: HTTPRequest) throws -> HTTPResponse {
        var f = BreachFilter()
        (f.limit, f.offset) = try page(r)
        f.device = r.query["device"].flatMap { $0.isEmpty ? nil : $0 }
        f.model = r.query["model"].flatMap { $0.isEmpty ? nil : $0 }
        if let m = r.query["min_score"] {
            guard let v = Double(m), v >= 0, v <= 100 else { throw RequestProblem(status: 400, message: "min_score is a number from 0 to 100") }
            f.minScore = v
        }
        f.since = try time(r, "since")
        f.until = try time(r, "until")
        return try json(Page(items: try pool.with { try $0.breaches(f) }))
    }

    struct DeviceDetail: Encodable {
        var device: DeviceSummary
        var hours: [DeviceHour]
        var breaches: [Breach]
    }

    func device(_ address: String, _ r: HTTPRequest) throws -> HTTPResponse {
        var days = 7.0
        if let d = r.query["days"] {
            guard let v = Double(d), v >= 1, v <= 90 else { throw RequestProblem(status: 400, message: "days is a number from 1 to 90") }
            days = v
        }
        let detail = try pool.with { s -> DeviceDetail? in
            guard let d = try s.deviceSummary(address: address) else { return nil }
            let to = d.lastSeen
            let from = to - Duration(nanoseconds: Int64(days * 86_400e9))
            var f = BreachFilter()
            f.device = address
            f.limit = 200
            return DeviceDetail(device: d, hours: try s.deviceHours(address: address, from: from, to: to), breaches: try s.breaches(f))
        }
        guard let detail else { throw RequestProblem(status: 404, message: "no device \(address)") }
        return try json(detail)
    }

    struct AgentItem: Encodable { var agent: String; var breaches: Int; var topScore: Double; var last: Timestamp; var models: [String] }

    func agents() throws -> HTTPResponse {
        var f = BreachFilter()
        f.devicePrefix = "agent:"
        f.limit = 5000
        let all = try pool.with { try $0.breaches(f) }
        var by: [String: AgentItem] = [:]
        for b in all {
            let name = String(b.device.dropFirst(6))
            var a = by[name] ?? AgentItem(agent: name, breaches: 0, topScore: 0, last: b.time, models: [])
            a.breaches += 1
            a.topScore = max(a.topScore, b.score)
            a.last = max(a.last, b.time)
            if !a.models.contains(b.model) { a.models.append(b.model) }
            by[name] = a
        }
        return try json(Page(items: by.values.sorted { $0.topScore != $1.topScore ? $0.topScore > $1.topScore : $0.agent < $1.agent }))
    }

    func search(_ r: HTTPRequest) throws -> HTTPResponse {
        guard let q = r.query["q"]?.trimmingCharacters(in: .whitespaces), !q.isEmpty, q.count <= 255 else {
            throw RequestProblem(status: 400, message: "q is an address, a connection uid or a domain name")
        }
        let (limit, _) = try page(r)
        let from = try time(r, "since") ?? Timestamp(nanoseconds: 0)
        let to = try time(r, "until") ?? Timestamp(nanoseconds: Int64.max)
        return try json(Page(items: try pool.with { try $0.search(q, from: from, to: to, limit: limit) }))
    }

    func report(_ file: String) throws -> HTTPResponse {
        let incidents = try pool.with { try $0.incidents() }
        let (type, body): (String, String)
        switch file {
        case "incidents.json": (type, body) = ("application/json", String(decoding: try AnalysisReport.encoder().encode(["incidents": incidents]), as: UTF8.self))
        case "incidents.md": (type, body) = ("text/markdown; charset=utf-8", IncidentMarkdown.document(incidents, title: "Vigil incidents"))
        case "incidents.html":
            let activity = try pool.with { try $0.activity(for: incidents, utcOffsetHours: status.snapshot.utcOffsetHours) }
            (type, body) = ("text/html; charset=utf-8", IncidentHTML.document(incidents, title: "Vigil incidents", activity: activity))
        case "incidents.ocsf.jsonl": (type, body) = ("application/x-ndjson", try IncidentExport.ocsfLines(incidents))
        case "incidents.cef": (type, body) = ("text/plain; charset=utf-8", incidents.map(IncidentExport.cef).joined(separator: "\n") + (incidents.isEmpty ? "" : "\n"))
        default: throw RequestProblem(status: 404, message: "reports are incidents.json, incidents.md, incidents.html, incidents.ocsf.jsonl and incidents.cef")
        }
        // A download, and sandboxed: the HTML report's own styles apply, nothing in it runs.
        return HTTPResponse(status: 200, contentType: type, text: body, headers: [("Content-Disposition", "attachment; filename=\"\(file)\""), ("Content-Security-Policy", "sandbox")])
    }

    func metrics() -> HTTPResponse {
        let s = status.snapshot
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ values: [(String, Double)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, v) in values { out += "\(name)\(labels) \(v.rounded() == v && abs(v) < 1e15 ? String(Int64(v)) : String(v))\n" }
        }
        func label(_ src: ServiceStatus.Source) -> String {
            "{source=\"\(src.name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n"))\"}"
        }
        metric("vigil_packets_total", "counter", "Packets read from each source.", s.sources.map { (label($0), Double($0.packets)) })
        metric("vigil_capture_drops_total", "counter", "Packets the kernel or libpcap dropped before Vigil saw them.", s.sources.map { (label($0), Double($0.dropped)) })
        metric("vigil_interface_drops_total", "counter", "Packets the interface dropped.", s.sources.map { (label($0), Double($0.interfaceDropped)) })
        metric("vigil_observations_total", "counter", "Observations (flows and protocol records) learned from.", [("", Double(s.observations))])
        metric("vigil_flows_active", "gauge", "Connections being tracked.", [("", Double(s.activeFlows))])
        metric("vigil_breaches_total", "counter", "Model breaches found.", [("", Double(s.breaches))])
        metric("vigil_incidents", "gauge", "Incidents in the store.", [("", Double(s.incidents))])
        metric("vigil_incidents_open", "gauge", "Incidents nobody has resolved.", [("", Double(s.openIncidents))])
        metric("vigil_devices", "gauge", "Devices the learner knows.", [("", Double(s.devices))])
        metric("vigil_learner_lag_seconds", "gauge", "Wall clock minus the newest observation time learned.", [("", s.learnerLagSeconds ?? 0)])
        metric("vigil_checkpoints_total", "counter", "Learner checkpoints written to the store.", [("", Double(s.checkpoints))])
        metric("vigil_event_listeners", "gauge", "Open live event streams.", [("", Double(events.listenerCount))])
        lock.lock(); let counts = requestCounts; lock.unlock()
        metric("vigil_api_requests_total", "counter", "API requests answered, by status code.", counts.sorted { $0.key < $1.key }.map { ("{code=\"\($0.key)\"}", Double($0.value)) })
        return HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", text: out)
    }

    // MARK: - Helpers

    static let encoder = AnalysisReport.encoder(pretty: false)

    func json<T: Encodable>(_ v: T, status: UInt32 = 200) throws -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(try Self.encoder.encode(v)))
    }

    static func error(_ status: UInt32, _ message: String, allow: String? = nil) -> HTTPResponse {
        let body = (try? encoder.encode(["error": message, "status": String(status)])) ?? Data("{}".utf8)
        var h = [("Content-Type", "application/json")]
        if let allow { h.append(("Allow", allow)) }
        return HTTPResponse(status: status, headers: h, body: Array(body))
    }

    func page(_ r: HTTPRequest) throws -> (Int, Int) {
        var limit = 100, offset = 0
        if let l = r.query["limit"] {
            guard let v = Int(l), v >= 1, v <= config.maxPage else { throw RequestProblem(status: 400, message: "limit is a whole number from 1 to \(config.maxPage)") }
            limit = v
        }
        if let o = r.query["offset"] {
            guard let v = Int(o), v >= 0, v <= 1_000_000 else { throw RequestProblem(status: 400, message: "offset is a whole number from 0") }
            offset = v
        }
        return (limit, offset)
    }

    func time(_ r: HTTPRequest, _ name: String) throws -> Timestamp? {
        guard let v = r.query[name] else { return nil }
        guard let t = Timestamp(iso8601: v) else { throw RequestProblem(status: 400, message: "\(name) is an ISO-8601 time like 2026-12-01T00:00:00Z") }
        return t
    }
}
