import Foundation
import VigilHTTP
import VigilMCP

/// What a session needs of an upstream server, whatever carries it.
protocol UpstreamConnection: AnyObject, Sendable {
    func start(onMessage: @escaping @Sendable (String) -> Void, onExit: @escaping @Sendable (String) -> Void) throws
    func send(_ message: RPCMessage)
    func stop()
}

extension StdioUpstream: UpstreamConnection {
    func start(onMessage: @escaping @Sendable (String) -> Void, onExit: @escaping @Sendable (String) -> Void) throws {
        try run(onExit: onExit)
        let label = name
        channel.start(onLine: onMessage, onTooLong: { n in logLine("upstream \(label) sent a \(n)-byte line, over the limit; dropped") }, onEnd: {})
    }
    func send(_ message: RPCMessage) { channel.send(message) }
}

/// An upstream MCP server over Streamable HTTP (`HTTPClient`: libcurl, each exchange on a thread
/// of its own that sleeps while it waits), in
/// either era: after `initialize` it keeps the server's `Mcp-Session-Id` and the negotiated
/// `MCP-Protocol-Version`; a modern request carries `MCP-Protocol-Version`, `Mcp-Method` and
/// `Mcp-Name` mirrored from its body. Replies come as JSON or as a per-request SSE stream. The
/// headers the configuration names (the gateway's own credential for that server) go with every
/// request; nothing of the agent's does.
final class HTTPUpstream: UpstreamConnection, @unchecked Sendable {
    let name: String
    private let url: String
    private let headers: [String: String]
    private let lock = NSLock()
    private let order = DispatchQueue(label: "vigil.mcp.http-upstream")
    private var sessionID: String?
    private var negotiated: String?
    private var onMessage: (@Sendable (String) -> Void)?
    private let maxBody: Int
    /// Open streams (subscriptions, the session's own), each ended through its token.
    private var streams: [UUID: HTTPCancel] = [:]
    /// Set by `stop`: no stream is opened again after it.
    private var stopping = false
    /// Seconds before the session stream is opened again after it drops (doubles to a minute).
    private var reopenDelay = 1.0

    init(server: GatewayConfig.Server, maxBody: Int) throws {
        name = server.name
        guard let s = server.url, let u = URL(string: s), u.scheme == "http" || u.scheme == "https" else {
            throw MCPError.policy("not an http(s) URL", place: "servers.\(server.name).url")
        }
        url = s
        headers = server.headers
        self.maxBody = maxBody
    }

    func start(onMessage: @escaping @Sendable (String) -> Void, onExit: @escaping @Sendable (String) -> Void) throws {
        lock.lock(); self.onMessage = onMessage; lock.unlock()
    }

    /// Requests go out in order; a notification is waited for before what follows it (a server
    /// must see `notifications/initialized` before the next request).
    func send(_ message: RPCMessage) {
        if case .request(_, "subscriptions/listen", _) = message {
            openStream(message)
            return
        }
        order.async { [self] in
            let done = DispatchSemaphore(value: 0)
            post(message) { done.signal() }
            if case .notification = message { _ = done.wait(timeout: .now() + 30) }
        }
    }

    /// A `subscriptions/listen` answer is a stream that stays open: its events are delivered as
    /// they arrive, not when the body ends (which is when the subscription ends).
    /// A stream the server accepted and that then ended (the server closed it, or the connection
    /// dropped) ends the subscription without refusing it: the gateway subscribes again after its
    /// next listing. A stream never accepted is the server's refusal.
    private func openStream(_ message: RPCMessage) {
        let label = name
        stream(request(for: message)) { [weak self] why, accepted in
            guard let self, case .request(let id, _, _) = message else { return }
            if accepted {
                logLine("upstream \(label): the subscription stream ended (\(why))")
                self.deliver(RPCMessage.result(id: id, result: [:]).line)
            } else {
                self.deliver(RPCMessage.error(id: id, code: RPCMessage.Code.internalError, message: "upstream \(label): the subscription stream ended (\(why))", data: nil).line)
            }
        }
    }

    /// A 2025-11-25 server's own stream (GET with the session id): where it announces, unasked,
    /// that its tools changed. A server that offers none answers 405, which is allowed.
    /// A stream that drops (a proxy's idle timeout, a restart) is opened again, after 1 s and then
    /// up to a minute between tries, for as long as the session lasts; one that lasted a minute
    /// starts the wait afresh. Changes made while it was down are found by the next listing.
    private func openSessionStream() {
        lock.lock(); let sid = sessionID, version = negotiated, done = stopping; lock.unlock()
        guard let sid, !done else { return }
        var r = baseRequest("GET", accept: "text/event-stream")
        r.set("Mcp-Session-Id", sid)
        if let version { r.set("MCP-Protocol-Version", version) }
        let label = name, opened = Date()
        stream(r) { [weak self] why, accepted in
            guard let self else { return }
            // 405: the server offers no stream; anything else refused (a lost session) is not retried.
            guard accepted else {
                if !why.hasPrefix("HTTP 405") { logLine("upstream \(label): its notification stream was refused (\(why))") }
                return
            }
            self.lock.lock()
            if Date().timeIntervalSince(opened) >= 60 { self.reopenDelay = 1 }
            let delay = self.reopenDelay, done = self.stopping
            self.reopenDelay = min(60, self.reopenDelay * 2)
            self.lock.unlock()
            guard !done else { return }
            logLine("upstream \(label): its notification stream ended (\(why)); opening it again in \(Int(delay)) s")
            DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [weak self] in self?.openSessionStream() }
        }
    }

    /// `ended` gets why the stream ended and whether the server had accepted it (2xx). The
    /// stream is read on a thread of its own until it ends or `stop` cancels it.
    private func stream(_ r: OutgoingRequest, ended: @escaping @Sendable (String, Bool) -> Void) {
        let token = UUID(), cancel = HTTPCancel()
        lock.lock(); streams[token] = cancel; lock.unlock()
        var open = r
        open.timeout = 0
        let limit = maxBody
        let t = Thread { [open, weak self] in
            let reader = StreamReader(maxLine: limit)
            let result = HTTPClient.stream(open, cancel: cancel, onHead: { reader.head = $0 }, onData: { chunk in
                reader.feed(chunk).forEach { self?.deliver($0) }
                return true
            })
            reader.finish().forEach { self?.deliver($0) }
            // A stream that ended is forgotten (a long session may open many).
            self?.lock.lock(); self?.streams[token] = nil; self?.lock.unlock()
            switch result {
            case .success(let head): ended("HTTP \(head.status)", (200..<300).contains(head.status))
            case .failure(let f): ended(f.description, (200..<300).contains(reader.head?.status ?? 0))
            }
        }
        t.name = "mcp-\(name)-stream"
        t.start()
    }

    /// A request to the server with the gateway's own configured headers (its credential).
    private func baseRequest(_ method: String, accept: String) -> OutgoingRequest {
        var r = OutgoingRequest(method, url, headers: [("Accept", accept)], timeout: 300)
        for (k, v) in headers.sorted(by: { $0.key < $1.key }) { r.set(k, v) }
        return r
    }

    private func request(for message: RPCMessage) -> OutgoingRequest {
        var r = baseRequest("POST", accept: "application/json, text/event-stream")
        r.body = Array(message.line.utf8)
        r.set("Content-Type", "application/json")
        let params = message.params
        lock.lock(); let sid = sessionID, version = negotiated; lock.unlock()
        if let modern = Revision.modernVersion(in: params) {
            r.set("MCP-Protocol-Version", modern)
            r.set("Mcp-Method", message.method ?? "")
            if let n = params?["name"]?.string ?? params?["uri"]?.string { r.set("Mcp-Name", Self.headerValue(n)) }
        } else {
            if let version { r.set("MCP-Protocol-Version", version) }
            if let sid { r.set("Mcp-Session-Id", sid) }
        }
        return r
    }

    /// Sends one message on a thread of the global pool (a long tool call holds only its own)
    /// and delivers every message of the answer; `then` runs when the answer is in.
    private func post(_ message: RPCMessage, then: @escaping @Sendable () -> Void) {
        let r = request(for: message)
        let id = message.requestID, method = message.method ?? ""
        let label = name, limit = maxBody
        DispatchQueue.global().async { [weak self] in
            defer { then() }
            let result = HTTPClient.send(r, maxBody: limit)
            guard let self else { return }
            let a: HTTPClient.Answer
            switch result {
            case .failure(let f):
                if let id { self.deliver(RPCMessage.error(id: id, code: RPCMessage.Code.internalError, message: "upstream \(label): \(f)", data: nil).line) }
                return
            case .success(let got): a = got
            }
            if method == "initialize", let s = a.head["Mcp-Session-Id"] {
                self.lock.lock(); self.sessionID = s; self.lock.unlock()
            }
            if method == "notifications/initialized", (200..<300).contains(a.status) { self.openSessionStream() }
            var messages: [String] = []
            if (a.head["Content-Type"] ?? "").hasPrefix("text/event-stream") {
                messages = SSEDecoder.events(a.body, maxLine: limit)
            } else if !a.body.isEmpty {
                messages = [String(decoding: a.body, as: UTF8.self)]
            }
            var answered = false
            for m in messages {
                if method == "initialize", let v = try? JSONValue.parse(m), let pv = v["result"]?["protocolVersion"]?.string {
                    self.lock.lock(); self.negotiated = pv; self.lock.unlock()
                }
                if let v = try? JSONValue.parse(m), v["id"] != nil, v["id"] == id { answered = true }
                self.deliver(m)
            }
            // A refusal without a JSON-RPC answer (405 to a modern probe, 404 after a lost
            // session) still answers the request, so the session is not left waiting.
            if let id, !answered {
                self.deliver(RPCMessage.error(id: id, code: RPCMessage.Code.internalError, message: "upstream \(label): HTTP \(a.status)", data: nil).line)
            }
        }
    }

    private func deliver(_ line: String) {
        lock.lock(); let f = onMessage; lock.unlock()
        f?(line)
    }

    func stop() {
        lock.lock(); stopping = true; let sid = sessionID, open = Array(streams.values); streams = [:]; lock.unlock()
        open.forEach { $0.cancel() }
        guard let sid else { return }
        var r = baseRequest("DELETE", accept: "application/json")
        r.set("Mcp-Session-Id", sid)
        r.timeout = 5
        _ = HTTPClient.send(r, maxBody: 1 << 16)
    }

    /// A header-safe value, or the `=?base64?…?=` sentinel form.
    static func headerValue(_ s: String) -> String {
        let safe = s.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } && s.first != " " && s.last != " " && !(s.hasPrefix("=?base64?") && s.hasSuffix("?="))
        return safe ? s : "=?base64?" + Data(s.utf8).base64EncodedString() + "?="
    }
}

/// One streamed answer's bytes: SSE events as they arrive, or, when the server answered with
/// anything but a stream (a refusal), one JSON body at the end.
private final class StreamReader: @unchecked Sendable {
    private var decoder: SSEDecoder
    private var plain: [UInt8] = []
    var head: HTTPHead?

    init(maxLine: Int) { decoder = SSEDecoder(maxLine: maxLine) }

    private var isStream: Bool { (head?["Content-Type"] ?? "").hasPrefix("text/event-stream") }

    func feed(_ chunk: UnsafeRawBufferPointer) -> [String] {
        if isStream { return decoder.feed(chunk) }
        if plain.count + chunk.count <= decoder.maxLine { plain += chunk }
        return []
    }

    func finish() -> [String] {
        var events = decoder.finish()
        if !plain.isEmpty { events.append(String(decoding: plain, as: UTF8.self)); plain = [] }
        return events
    }
}
