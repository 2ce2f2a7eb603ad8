import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
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

/// An upstream MCP server over Streamable HTTP (Foundation's URLSession, libcurl underneath), in
/// either era: after `initialize` it keeps the server's `Mcp-Session-Id` and the negotiated
/// `MCP-Protocol-Version`; a modern request carries `MCP-Protocol-Version`, `Mcp-Method` and
/// `Mcp-Name` mirrored from its body. Replies come as JSON or as a per-request SSE stream. The
/// headers the configuration names (the gateway's own credential for that server) go with every
/// request; nothing of the agent's does.
final class HTTPUpstream: UpstreamConnection, @unchecked Sendable {
    let name: String
    private let url: URL
    private let headers: [String: String]
    private let session: URLSession
    private let lock = NSLock()
    private let order = DispatchQueue(label: "vigil.mcp.http-upstream")
    private var sessionID: String?
    private var negotiated: String?
    private var onMessage: (@Sendable (String) -> Void)?
    private let maxBody: Int
    /// Sessions of open subscription streams (each has its own delegate).
    private var streams: [UUID: URLSession] = [:]
    /// Set by `stop`: no stream is opened again after it.
    private var stopping = false
    /// Seconds before the session stream is opened again after it drops (doubles to a minute).
    private var reopenDelay = 1.0

    init(server: GatewayConfig.Server, maxBody: Int) throws {
        name = server.name
        guard let s = server.url, let u = URL(string: s) else { throw MCPError.policy("no url", place: "servers.\(server.name).url") }
        url = u
        headers = server.headers
        self.maxBody = maxBody
        let c = URLSessionConfiguration.ephemeral
        c.timeoutIntervalForRequest = 300
        c.httpCookieAcceptPolicy = .never
        session = URLSession(configuration: c)
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
        r.setValue(sid, forHTTPHeaderField: "Mcp-Session-Id")
        if let version { r.setValue(version, forHTTPHeaderField: "MCP-Protocol-Version") }
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

    /// `ended` gets why the stream ended and whether the server had accepted it (2xx).
    private func stream(_ r: URLRequest, ended: @escaping @Sendable (String, Bool) -> Void) {
        let token = UUID()
        let reader = StreamReader(maxLine: maxBody, deliver: { [weak self] m in self?.deliver(m) },
                                  ended: { [weak self] why, accepted in
                                      // A stream that ended is forgotten (a long session may open many).
                                      self?.lock.lock(); self?.streams[token] = nil; self?.lock.unlock()
                                      ended(why, accepted)
                                  })
        let c = URLSessionConfiguration.ephemeral
        c.timeoutIntervalForRequest = 24 * 3600
        c.httpCookieAcceptPolicy = .never
        let streaming = URLSession(configuration: c, delegate: reader, delegateQueue: nil)
        lock.lock(); streams[token] = streaming; lock.unlock()
        streaming.dataTask(with: r).resume()
    }

    /// A request to the server with the gateway's own configured headers (its credential).
    private func baseRequest(_ method: String, accept: String) -> URLRequest {
        var r = URLRequest(url: url)
        r.httpMethod = method
        r.setValue(accept, forHTTPHeaderField: "Accept")
        for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
        return r
    }

    private func request(for message: RPCMessage) -> URLRequest {
        var r = baseRequest("POST", accept: "application/json, text/event-stream")
        r.httpBody = Data(message.line.utf8)
        r.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let params = message.params
        lock.lock(); let sid = sessionID, version = negotiated; lock.unlock()
        if let modern = Revision.modernVersion(in: params) {
            r.setValue(modern, forHTTPHeaderField: "MCP-Protocol-Version")
            r.setValue(message.method ?? "", forHTTPHeaderField: "Mcp-Method")
            if let n = params?["name"]?.string ?? params?["uri"]?.string { r.setValue(Self.headerValue(n), forHTTPHeaderField: "Mcp-Name") }
        } else {
            if let version { r.setValue(version, forHTTPHeaderField: "MCP-Protocol-Version") }
            if let sid { r.setValue(sid, forHTTPHeaderField: "Mcp-Session-Id") }
        }
        return r
    }

    private func post(_ message: RPCMessage, then: @escaping @Sendable () -> Void) {
        let r = request(for: message)
        let id = message.requestID, method = message.method ?? ""
        let label = name, limit = maxBody
        session.dataTask(with: r) { [weak self] data, response, error in
            defer { then() }
            guard let self else { return }
            guard let h = response as? HTTPURLResponse else {
                if let id { self.deliver(RPCMessage.error(id: id, code: RPCMessage.Code.internalError, message: "upstream \(label): \(error?.localizedDescription ?? "no response")", data: nil).line) }
                return
            }
            if method == "initialize", let s = h.value(forHTTPHeaderField: "Mcp-Session-Id") {
                self.lock.lock(); self.sessionID = s; self.lock.unlock()
            }
            if method == "notifications/initialized", (200..<300).contains(h.statusCode) { self.openSessionStream() }
            let body = data ?? Data()
            guard body.count <= limit else {
                if let id { self.deliver(RPCMessage.error(id: id, code: RPCMessage.Code.internalError, message: "upstream \(label) answered with \(body.count) bytes, over the limit", data: nil).line) }
                return
            }
            let type = h.value(forHTTPHeaderField: "Content-Type") ?? ""
            var messages: [String] = []
            if type.hasPrefix("text/event-stream") {
                messages = SSEDecoder.events([UInt8](body), maxLine: limit)
            } else if !body.isEmpty {
                messages = [String(decoding: body, as: UTF8.self)]
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
                self.deliver(RPCMessage.error(id: id, code: RPCMessage.Code.internalError, message: "upstream \(label): HTTP \(h.statusCode)", data: nil).line)
            }
        }.resume()
    }

    private func deliver(_ line: String) {
        lock.lock(); let f = onMessage; lock.unlock()
        f?(line)
    }

    func stop() {
        lock.lock(); stopping = true; let sid = sessionID, open = Array(streams.values); streams = [:]; lock.unlock()
        open.forEach { $0.invalidateAndCancel() }
        guard let sid else { return }
        var r = baseRequest("DELETE", accept: "application/json")
        r.setValue(sid, forHTTPHeaderField: "Mcp-Session-Id")
        let done = DispatchSemaphore(value: 0)
        session.dataTask(with: r) { _, _, _ in done.signal() }.resume()
        _ = done.wait(timeout: .now() + 5)
    }

    /// A header-safe value, or the `=?base64?…?=` sentinel form.
    static func headerValue(_ s: String) -> String {
        let safe = s.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } && s.first != " " && s.last != " " && !(s.hasPrefix("=?base64?") && s.hasSuffix("?="))
        return safe ? s : "=?base64?" + Data(s.utf8).base64EncodedString() + "?="
    }
}

/// The delegate of one streamed answer: SSE events delivered as they arrive.
private final class StreamReader: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private var decoder: SSEDecoder
    private let deliver: @Sendable (String) -> Void
    private let ended: @Sendable (String, Bool) -> Void
    private let lock = NSLock()

    init(maxLine: Int, deliver: @escaping @Sendable (String) -> Void, ended: @escaping @Sendable (String, Bool) -> Void) {
        decoder = SSEDecoder(maxLine: maxLine)
        self.deliver = deliver
        self.ended = ended
    }

    /// A refusal comes as one JSON body, not a stream.
    private var plain: [UInt8] = []

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let type = (dataTask.response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Content-Type") ?? ""
        lock.lock()
        var events: [String] = []
        if type.hasPrefix("text/event-stream") { events = decoder.feed(data) }
        else if plain.count + data.count <= decoder.maxLine { plain += data }
        lock.unlock()
        events.forEach(deliver)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        lock.lock()
        var events = decoder.finish()
        if !plain.isEmpty { events.append(String(decoding: plain, as: UTF8.self)); plain = [] }
        lock.unlock()
        events.forEach(deliver)
        let status = (task.response as? HTTPURLResponse)?.statusCode ?? 0
        ended(error.map { "\($0.localizedDescription)" } ?? "HTTP \(status)", (200..<300).contains(status))
        session.finishTasksAndInvalidate()
    }
}
