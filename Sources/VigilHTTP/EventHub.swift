import Foundation

/// Server-sent events (the `text/event-stream` format) to any number of listeners. Each
/// listener has a bounded queue: a listener that stops reading loses its oldest events (and is
/// told how many) rather than growing the server's memory.
public final class EventHub: @unchecked Sendable {
    private let lock = NSLock()
    private var listeners: [ObjectIdentifier: EventSubscription] = [:]
    private var nextID: UInt64 = 0
    public let queueLimit: Int
    public let keepAliveSeconds: Double

    public init(queueLimit: Int = 1000, keepAliveSeconds: Double = 15) {
        self.queueLimit = queueLimit
        self.keepAliveSeconds = keepAliveSeconds
    }

    public var listenerCount: Int { lock.lock(); defer { lock.unlock() }; return listeners.count }

    /// A new listener; serve it as an `HTTPResponse` stream.
    public func subscribe() -> EventSubscription {
        let s = EventSubscription(hub: self)
        lock.lock(); listeners[ObjectIdentifier(s)] = s; lock.unlock()
        return s
    }

    func remove(_ s: EventSubscription) {
        lock.lock(); listeners[ObjectIdentifier(s)] = nil; lock.unlock()
    }

    /// Sends one event to every listener. `data` is one JSON document (newlines are split into
    /// `data:` lines as the format requires).
    public func publish(event: String, data: String) {
        lock.lock()
        nextID &+= 1
        let id = nextID
        let all = Array(listeners.values)
        lock.unlock()
        var text = "id: \(id)\nevent: \(Self.line(event))\n"
        for l in data.split(separator: "\n", omittingEmptySubsequences: false) { text += "data: \(l)\n" }
        text += "\n"
        let bytes = Array(text.utf8)
        for s in all { s.push(bytes) }
    }

    /// Ends every stream (the server is stopping).
    public func closeAll() {
        lock.lock(); let all = Array(listeners.values); listeners = [:]; lock.unlock()
        all.forEach { $0.close() }
    }

    static func line(_ s: String) -> String { s.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ") }
}

/// One listener's queue of encoded events.
public final class EventSubscription: HTTPStream, @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [[UInt8]] = []
    private var pending: [UInt8] = []
    private var dropped = 0
    private var closed = false
    private var finishing = false
    private weak var hub: EventHub?
    private let limit: Int
    private let keepAlive: Double

    init(hub: EventHub) {
        self.hub = hub
        limit = hub.queueLimit
        keepAlive = hub.keepAliveSeconds
        // The first bytes tell the browser how long to wait before reconnecting.
        queue.append(Array("retry: 3000\n\n".utf8))
    }

    func push(_ bytes: [UInt8]) {
        condition.lock()
        if !closed {
            if queue.count >= limit { queue.removeFirst(); dropped += 1 }
            queue.append(bytes)
            condition.signal()
        }
        condition.unlock()
    }

    public func read(max: Int) -> [UInt8]? {
        condition.lock()
        defer { condition.unlock() }
        if pending.isEmpty {
            let deadline = Date().addingTimeInterval(keepAlive)
            while queue.isEmpty && !closed && !finishing {
                if !condition.wait(until: deadline) { break }
            }
            if closed || (finishing && queue.isEmpty && dropped == 0) { return nil }
            if dropped > 0 {
                pending = Array(": \(dropped) events dropped (this listener read too slowly)\n\n".utf8)
                dropped = 0
            } else if queue.isEmpty {
                pending = Array(": keep-alive\n\n".utf8)
            } else {
                pending = queue.removeFirst()
            }
        }
        let n = min(max, pending.count)
        let out = Array(pending[0..<n])
        pending.removeFirst(n)
        return out
    }

    /// Ends the stream once what is queued has been read.
    public func finish() {
        condition.lock()
        finishing = true
        condition.broadcast()
        condition.unlock()
    }

    public func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
        hub?.remove(self)
    }
}
