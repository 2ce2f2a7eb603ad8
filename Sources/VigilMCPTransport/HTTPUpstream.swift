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
    func send(_ message: RPCMessage) { channel.send(message.line) }
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
        order.async { [self] in
            let done = DispatchSemaphore(value: 0)
            post(message) { done.signal() }
            if case .notification = message { _ = done.wait(timeout: .now() + 30) }
        }
    }

    private func post(_ message: RPCMessage, then: @escaping @Sendable () -> Void) {
        var r = URLRequest(url: url)
        r.httpMethod = "POST"
        r.httpBody = Data(message.line.utf8)
        r.setValue("application/json", forHTTPHeaderField: "Content-Type")
        r.setValue("application/json, text/event-stream", forHTTPHeaderField: "Accept")
        for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
        let (id, method, params): (JSONValue?, String, JSONValue?) = {
            switch message {
            case .request(let i, let m, let p): return (i, m, p)
            case .notification(let m, let p): return (nil, m, p)
            default: return (nil, "", nil)
            }
        }()
        lock.lock(); let sid = sessionID, version = negotiated; lock.unlock()
        if let modern = Revision.modernVersion(in: params) {
            r.setValue(modern, forHTTPHeaderField: "MCP-Protocol-Version")
            r.setValue(method, forHTTPHeaderField: "Mcp-Method")
            if let n = params?["name"]?.string ?? params?["uri"]?.string { r.setValue(Self.headerValue(n), forHTTPHeaderField: "Mcp-Name") }
        } else {
            if let version { r.setValue(version, forHTTPHeaderField: "MCP-Protocol-Version") }
            if let sid { r.setValue(sid, forHTTPHeaderField: "Mcp-Session-Id") }
        }
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
            let body = data ?? Data()
            guard body.count <= limit else {
                if let id { self.deliver(RPCMessage.error(id: id, code: RPCMessage.Code.internalError, message: "upstream \(label) answered with \(body.count) bytes, over the limit", data: nil).line) }
                return
            }
            let type = h.value(forHTTPHeaderField: "Content-Type") ?? ""
            var messages: [String] = []
            if type.hasPrefix("text/event-stream") {
                messages = Self.sseData(body)
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
        lock.lock(); let sid = sessionID; lock.unlock()
        guard let sid else { return }
        var r = URLRequest(url: url)
        r.httpMethod = "DELETE"
        r.setValue(sid, forHTTPHeaderField: "Mcp-Session-Id")
        for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
        let done = DispatchSemaphore(value: 0)
        session.dataTask(with: r) { _, _, _ in done.signal() }.resume()
        _ = done.wait(timeout: .now() + 5)
    }

    /// The `data:` payloads of an SSE body, one per event (multi-line data joined with newlines).
    static func sseData(_ body: Data) -> [String] {
        // Lines end in \n, \r\n or \r; split on bytes ("\r\n" is one Character in Swift).
        var out: [String] = []
        var current: [String] = []
        var lines: [ArraySlice<UInt8>] = []
        let bytes = [UInt8](body)
        var start = 0, i = 0
        while i < bytes.count {
            if bytes[i] == 0x0A || bytes[i] == 0x0D {
                lines.append(bytes[start..<i])
                if bytes[i] == 0x0D, i + 1 < bytes.count, bytes[i + 1] == 0x0A { i += 1 }
                start = i + 1
            }
            i += 1
        }
        if start < bytes.count { lines.append(bytes[start...]) }
        for line in lines {
            if line.isEmpty {
                if !current.isEmpty { out.append(current.joined(separator: "\n")); current = [] }
            } else if line.starts(with: Array("data:".utf8)) {
                var d = line.dropFirst(5)
                if d.first == 0x20 { d = d.dropFirst() }
                current.append(String(decoding: d, as: UTF8.self))
            }
        }
        if !current.isEmpty { out.append(current.joined(separator: "\n")) }
        return out
    }

    /// A header-safe value, or the `=?base64?…?=` sentinel form.
    static func headerValue(_ s: String) -> String {
        let safe = s.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } && s.first != " " && s.last != " " && !(s.hasPrefix("=?base64?") && s.hasSuffix("?="))
        return safe ? s : "=?base64?" + Data(s.utf8).base64EncodedString() + "?="
    }
}
