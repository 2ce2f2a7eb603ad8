import VigilCore

/// Streams one direction of HTTP/1.x: header blocks are collected, bodies are counted and
/// skipped (Content-Length, chunked, or until close) without being buffered.
struct HTTPStreamReader {
    enum State { case headers, body(UInt64), chunkSize, chunkData(UInt64), chunkEnd(Int), trailers, untilClose, tunnel, broken }
    var state: State = .headers
    var header: [UInt8] = []
    var lineLength = 0        // bytes on the current header line; a blank line ends the block
    var line: [UInt8] = []
    var bodyBytes: UInt64 = 0
    static let maxHeader = 32 * 1024

    enum Event { case headers([UInt8]), bodyDone(UInt64) }

    /// Consumes bytes; calls `onEvent` for each complete header block and body. The handler
    /// returns the body framing that follows a header block.
    mutating func consume(_ d: UnsafeRawBufferPointer, onEvent: (Event) -> State?) -> Bool {
        var i = 0
        while i < d.count {
            switch state {
            case .broken, .tunnel:
                return true
            case .untilClose:
                bodyBytes &+= UInt64(d.count - i)
                return true
            case .headers, .trailers:
                let inTrailers: Bool = { if case .trailers = state { return true }; return false }()
                // Find the blank line that ends the block (state carries across segments),
                // then copy the whole run at once.
                var ended = false
                var j = i
                while j < d.count {
                    let c = d[j]
                    j += 1
                    if c == 10 {
                        if lineLength == 0 { ended = true; break }
                        lineLength = 0
                    } else if c != 13 {
                        lineLength += 1
                    }
                }
                if !inTrailers { header.append(contentsOf: UnsafeRawBufferPointer(rebasing: d[i..<j])) }
                i = j
                if header.count > Self.maxHeader { state = .broken; return false }
                guard ended else { continue }
                lineLength = 0
                if inTrailers {
                    state = .headers
                    _ = onEvent(.bodyDone(bodyBytes))
                    bodyBytes = 0
                    continue
                }
                // Skip leading blank lines between messages.
                let block = header
                header.removeAll(keepingCapacity: true)
                if block.allSatisfy({ $0 == 13 || $0 == 10 }) { continue }
                let next = onEvent(.headers(block)) ?? .body(0)
                bodyBytes = 0
                state = next
                if case .body(0) = next { state = .headers; _ = onEvent(.bodyDone(0)) }
            case .body(let remaining):
                let n = min(remaining, UInt64(d.count - i))
                i += Int(n)
                bodyBytes &+= n
                if n == remaining {
                    state = .headers
                    _ = onEvent(.bodyDone(bodyBytes))
                    bodyBytes = 0
                } else {
                    state = .body(remaining - n)
                }
            case .chunkSize:
                while i < d.count {
                    let c = d[i]
                    i += 1
                    if c == 10 { break }
                    if line.count < 1024 { line.append(c) } else { state = .broken; return false }
                }
                guard i <= d.count, d[i - 1] == 10 else { continue }
                let hexDigits = line.prefix { $0 != 59 && $0 != 13 && $0 != 32 }  // stop at ';' or CR
                line.removeAll(keepingCapacity: true)
                guard let size = UInt64(String(decoding: hexDigits, as: UTF8.self), radix: 16) else {
                    state = .broken; return false
                }
                state = size == 0 ? .trailers : .chunkData(size)
                lineLength = 0
            case .chunkData(let remaining):
                let n = min(remaining, UInt64(d.count - i))
                i += Int(n)
                bodyBytes &+= n
                state = n == remaining ? .chunkEnd(0) : .chunkData(remaining - n)
            case .chunkEnd(let seen):
                // CRLF after chunk data.
                let c = d[i]
                i += 1
                if c == 10 { state = .chunkSize } else { state = .chunkEnd(seen + 1) }
                if seen > 2 { state = .broken; return false }
            }
        }
        return true
    }
}

/// A parsed header block: the first line's words and the few fields Vigil logs.
/// Works on the bytes; only the fields it keeps become strings.
struct HTTPHead {
    var first: [String] = []
    var fields: [(Int, String)] = []
    static let wanted: [[UInt8]] = wantedNames.map { Array($0.utf8) }

    init?(_ block: [UInt8]) {
        var first = true
        var start = 0
        let n = block.count
        while start < n {
            var end = start
            while end < n && block[end] != 10 { end += 1 }
            var stop = end
            if stop > start && block[stop - 1] == 13 { stop -= 1 }
            defer { start = end + 1 }
            if stop <= start { continue }
            let line = block[start..<stop]
            if first {
                first = false
                // Request or status line: up to three words, the last keeps its spaces.
                var w = line.startIndex
                while w < line.endIndex && self.first.count < 2 {
                    guard let sp = line[w...].firstIndex(of: 32) else { break }
                    if sp > w { self.first.append(String(decoding: line[w..<sp], as: UTF8.self)) }
                    w = sp + 1
                }
                if w < line.endIndex { self.first.append(String(decoding: line[w...], as: UTF8.self)) }
                continue
            }
            guard let colon = line.firstIndex(of: 58) else { continue }
            let name = line[line.startIndex..<colon]
            // Only the few fields Vigil logs become strings.
            guard name.count >= 4 && name.count <= 17,
                  let k = Self.wanted.firstIndex(where: { Self.equalsIgnoringCase(name, $0) }) else { continue }
            var v = line[(colon + 1)...]
            while let f = v.first, f == 32 || f == 9 { v = v.dropFirst() }
            while let e = v.last, e == 32 || e == 9 { v = v.dropLast() }
            fields.append((k, String(decoding: v, as: UTF8.self)))
        }
        if first { return nil }
    }

    /// The header fields kept, in the order of `Field`.
    static let wantedNames = ["host", "user-agent", "referer", "origin", "content-length", "transfer-encoding", "content-type"]
    enum Field: Int { case host, userAgent, referer, origin, contentLength, transferEncoding, contentType }

    static func equalsIgnoringCase(_ a: ArraySlice<UInt8>, _ lower: [UInt8]) -> Bool {
        guard a.count == lower.count else { return false }
        var j = 0
        for c in a {
            let l = c >= 65 && c <= 90 ? c | 0x20 : c
            if l != lower[j] { return false }
            j += 1
        }
        return true
    }

    func value(_ f: Field) -> String? { fields.first { $0.0 == f.rawValue }?.1 }
}

/// HTTP/1.x found by content (a request method or a status line at a stream's start).
/// Pairs requests with responses in order, counts body lengths, logs like Zeek's http.log.
final class HTTPAnalyzer: StreamAnalyzer {
    static let methods: [StaticString] = ["GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "CONNECT ", "PATCH ", "TRACE ", "PROPFIND "]

    static let registration = AnalyzerRegistration(
        service: "http", proto: .tcp,
        detect: { p, fromOrig, _, _ in
            if fromOrig { return methods.contains { p.starts(with: $0) } }
            return p.starts(with: "HTTP/1.")
        },
        make: { HTTPAnalyzer() })

    @exclusivity(unchecked) private var request = HTTPStreamReader()
    @exclusivity(unchecked) private var response = HTTPStreamReader()
    @exclusivity(unchecked) private var pending: [HTTPRecord] = []       // requests waiting for their response
    @exclusivity(unchecked) private var responding: HTTPRecord?          // response headers seen, body in progress
    @exclusivity(unchecked) private var depth: UInt32 = 0
    @exclusivity(unchecked) private var lastTime = Timestamp.zero
    @exclusivity(unchecked) private var pendingRequestAt: Timestamp?
    @exclusivity(unchecked) private var flushed: [HTTPRecord] = []
    static let maxPending = 64

    override func feed(_ data: UnsafeRawBufferPointer, fromOrig: Bool, at time: Timestamp, flow: FlowInfo, into out: inout AnalyzerOutput) {
        lastTime = time
        if fromOrig {
            if pendingRequestAt == nil, case .headers = request.state, request.header.isEmpty { pendingRequestAt = time }
            let ok = request.consume(data) { event in self.requestEvent(event, at: time, flow: flow) }
            if !ok { out.parseErrors += 1 }
            if !flushed.isEmpty {
                for r in flushed { out.observations.append(.http(r)) }
                flushed.removeAll()
            }
        } else {
            let ok = response.consume(data) { event in self.responseEvent(event, flow: flow, into: &out) }
            if !ok { out.parseErrors += 1 }
        }
    }

    private func requestEvent(_ e: HTTPStreamReader.Event, at time: Timestamp, flow: FlowInfo) -> HTTPStreamReader.State? {
        switch e {
        case .headers(let block):
            let ts = pendingRequestAt ?? time
            pendingRequestAt = nil
            guard let head = HTTPHead(block), head.first.count >= 2 else { return .broken }
            depth += 1
            var r = HTTPRecord(ts: ts, uid: flow.uid, id: flow.id, transDepth: depth)
            r.method = head.first[0]
            r.uri = head.first[1]
            if head.first.count > 2, head.first[2].hasPrefix("HTTP/") { r.version = String(head.first[2].dropFirst(5)) }
            r.host = head.value(.host)
            r.userAgent = head.value(.userAgent)
            r.referrer = head.value(.referer)
            r.origin = head.value(.origin)
            pending.append(r)
            // A client pipelining without answers cannot grow this without bound: the oldest
            // unanswered request is logged as it is.
            if pending.count > Self.maxPending { flushed.append(pending.removeFirst()) }
            if r.method == "CONNECT" { return .tunnel }
            return Self.framing(head, isResponse: false, requestMethod: nil)
        case .bodyDone(let n):
            if let last = pending.indices.last { pending[last].requestBodyLength = n }
            return nil
        }
    }

    private func responseEvent(_ e: HTTPStreamReader.Event, flow: FlowInfo, into out: inout AnalyzerOutput) -> HTTPStreamReader.State? {
        switch e {
        case .headers(let block):
            guard let head = HTTPHead(block), head.first.count >= 2, head.first[0].hasPrefix("HTTP/") else { return .broken }
            let code = UInt16(head.first[1]) ?? 0
            if (100..<200).contains(code) && code != 101 { return .body(0) }  // interim; the real one follows
            if pending.isEmpty {
                depth += 1
                responding = HTTPRecord(ts: lastTime, uid: flow.uid, id: flow.id, transDepth: depth)
            } else {
                responding = pending.removeFirst()
            }
            // Fill the one copy in place.
            responding?.statusCode = code
            responding?.statusMessage = head.first.count > 2 ? head.first[2] : nil
            responding?.contentType = head.value(.contentType)
            if responding?.version == nil { responding?.version = String(head.first[0].dropFirst(5)) }
            let method = responding?.method
            if code == 101 { return .tunnel }
            if method == "CONNECT" && (200..<300).contains(code) { return .tunnel }
            return Self.framing(head, isResponse: true, requestMethod: method, status: code)
        case .bodyDone(let n):
            if responding != nil {
                responding?.responseBodyLength = n
                if let r = responding.take() { out.observations.append(.http(r)) }
            }
            return nil
        }
    }

    static func framing(_ head: HTTPHead, isResponse: Bool, requestMethod: String?, status: UInt16 = 0) -> HTTPStreamReader.State {
        if isResponse && (requestMethod == "HEAD" || status == 204 || status == 304) { return .body(0) }
        if let te = head.value(.transferEncoding), te.lowercased().contains("chunked") { return .chunkSize }
        if let cl = head.value(.contentLength), let n = UInt64(cl) { return .body(n) }
        return isResponse ? .untilClose : .body(0)
    }

    override func gap(fromOrig: Bool) {
        if fromOrig { request.state = .broken } else { response.state = .broken }
    }

    override func finish(at time: Timestamp, flow: FlowInfo, into out: inout AnalyzerOutput) {
        if var r = responding {
            r.responseBodyLength = response.bodyBytes
            out.observations.append(.http(r))
            responding = nil
        }
        for r in pending { out.observations.append(.http(r)) }
        pending = []
    }
}
