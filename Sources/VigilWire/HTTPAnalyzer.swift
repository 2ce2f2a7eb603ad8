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

    /// A header block is lent for the length of the call only.
    enum Event { case headers(UnsafeRawBufferPointer), bodyDone(UInt64) }

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
                // Find the blank line that ends the block (state carries across segments).
                let (j, ended) = Self.scanHeader(d, from: i, lineLength: &lineLength)
                let run = UnsafeRawBufferPointer(rebasing: d[i..<j])
                i = j
                if !ended {
                    if !inTrailers { header.append(contentsOf: run) }
                    if header.count > Self.maxHeader { state = .broken; return false }
                    continue
                }
                lineLength = 0
                if inTrailers {
                    state = .headers
                    _ = onEvent(.bodyDone(bodyBytes))
                    bodyBytes = 0
                    continue
                }
                // A block that lies whole in this segment is lent as it is; one that spans
                // segments is lent from the buffer it was collected in.
                let next: State?
                if header.isEmpty {
                    if run.count > Self.maxHeader { state = .broken; return false }
                    // Skip leading blank lines between messages.
                    if run.allSatisfy({ $0 == 13 || $0 == 10 }) { continue }
                    next = onEvent(.headers(run))
                } else {
                    header.append(contentsOf: run)
                    if header.count > Self.maxHeader { state = .broken; return false }
                    let blank = header.allSatisfy { $0 == 13 || $0 == 10 }
                    next = blank ? nil : header.withUnsafeBytes { onEvent(.headers($0)) }
                    header.removeAll(keepingCapacity: true)
                    if blank { continue }
                }
                let framing = next ?? .body(0)
                bodyBytes = 0
                state = framing
                if case .body(0) = framing { state = .headers; _ = onEvent(.bodyDone(0)) }
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

extension HTTPStreamReader {
    /// Finds the end of a header block in `d` from `i`: the index after the blank line's LF and
    /// true, or the end of `d` and false. `lineLength` (non-CR bytes on the current line, capped
    /// at 1) carries across segments.
    @inline(__always)
    static func scanHeader(_ d: UnsafeRawBufferPointer, from i: Int, lineLength: inout Int) -> (Int, Bool) {
        var j = i
        let n = d.count
        while j < n {
            // A line's first byte decides whether it can be blank; the rest is skipped to the LF.
            if lineLength == 0 {
                let c = d[j]
                j += 1
                if c == 10 { return (j, true) }
                if c != 13 { lineLength = 1 }
                continue
            }
            guard let lf = d.firstIndex(of: 10, from: j) else { return (n, false) }
            j = lf + 1
            lineLength = 0
        }
        return (n, false)
    }
}

/// A parsed header block: where the first line's words and the few fields Vigil logs lie in
/// the lent bytes. Nothing is copied; only what a record keeps becomes a string.
struct HTTPHead {
    let bytes: UnsafeRawBufferPointer
    /// Up to three words of the request or status line; the third keeps its spaces.
    private(set) var words: (Range<Int>, Range<Int>, Range<Int>) = (0..<0, 0..<0, 0..<0)
    private(set) var wordCount = 0
    /// The first occurrence of each field in `Field`, as a range of its trimmed value.
    private var fields: (Range<Int>?, Range<Int>?, Range<Int>?, Range<Int>?, Range<Int>?, Range<Int>?, Range<Int>?)
        = (nil, nil, nil, nil, nil, nil, nil)

    init?(_ block: UnsafeRawBufferPointer) {
        bytes = block
        var first = true
        var start = 0
        let n = block.count
        while start < n {
            let end = block.firstIndex(of: 10, from: start) ?? n
            var stop = end
            if stop > start && block[stop - 1] == 13 { stop -= 1 }
            defer { start = end + 1 }
            if stop <= start { continue }
            if first {
                first = false
                var w = start
                while w < stop && wordCount < 2 {
                    guard let sp = block.firstIndex(of: 32, from: w), sp < stop else { break }
                    if sp > w { setWord(w..<sp) }
                    w = sp + 1
                }
                if w < stop { setWord(w..<stop) }
                continue
            }
            guard let colon = block.firstIndex(of: 58, from: start), colon < stop else { continue }
            guard let k = Self.field(UnsafeRawBufferPointer(rebasing: block[start..<colon])) else { continue }
            var vs = colon + 1, ve = stop
            while vs < ve, block[vs] == 32 || block[vs] == 9 { vs += 1 }
            while ve > vs, block[ve - 1] == 32 || block[ve - 1] == 9 { ve -= 1 }
            if range(k) == nil { setRange(k, vs..<ve) }
        }
        if first { return nil }
    }

    /// The header fields kept.
    enum Field: Int { case host, userAgent, referer, origin, contentLength, transferEncoding, contentType }
    static let names: [[UInt8]] = ["host", "user-agent", "referer", "origin", "content-length", "transfer-encoding", "content-type"]
        .map { Array($0.utf8) }

    /// Which kept field a header name is, ignoring case. The kept names all differ in length,
    /// so the length picks the one candidate to compare.
    static func field(_ name: UnsafeRawBufferPointer) -> Field? {
        let k: Field
        switch name.count {
        case 4: k = .host
        case 10: k = .userAgent
        case 7: k = .referer
        case 6: k = .origin
        case 14: k = .contentLength
        case 17: k = .transferEncoding
        case 12: k = .contentType
        default: return nil
        }
        return names[k.rawValue].withUnsafeBytes { Self.equalsIgnoringCase(name, $0) } ? k : nil
    }

    /// Whether `a` is `lower` (lower-case ASCII) in any letter case.
    static func equalsIgnoringCase(_ a: UnsafeRawBufferPointer, _ lower: UnsafeRawBufferPointer) -> Bool {
        guard a.count == lower.count else { return false }
        for j in 0..<a.count {
            let c = a[j]
            if (c >= 65 && c <= 90 ? c | 0x20 : c) != lower[j] { return false }
        }
        return true
    }

    private mutating func setWord(_ r: Range<Int>) {
        switch wordCount {
        case 0: words.0 = r
        case 1: words.1 = r
        default: words.2 = r
        }
        wordCount += 1
    }

    func word(_ k: Int) -> Range<Int>? {
        guard k < wordCount else { return nil }
        return k == 0 ? words.0 : k == 1 ? words.1 : words.2
    }

    func range(_ f: Field) -> Range<Int>? {
        switch f {
        case .host: fields.0
        case .userAgent: fields.1
        case .referer: fields.2
        case .origin: fields.3
        case .contentLength: fields.4
        case .transferEncoding: fields.5
        case .contentType: fields.6
        }
    }

    private mutating func setRange(_ f: Field, _ r: Range<Int>) {
        switch f {
        case .host: fields.0 = r
        case .userAgent: fields.1 = r
        case .referer: fields.2 = r
        case .origin: fields.3 = r
        case .contentLength: fields.4 = r
        case .transferEncoding: fields.5 = r
        case .contentType: fields.6 = r
        }
    }

    func text(_ r: Range<Int>) -> String { String(decoding: UnsafeRawBufferPointer(rebasing: bytes[r]), as: UTF8.self) }
    func value(_ f: Field) -> String? { range(f).map(text) }

    /// True when the bytes in `r` begin with `prefix`.
    func starts(_ r: Range<Int>, with prefix: StaticString) -> Bool {
        UnsafeRawBufferPointer(rebasing: bytes[r]).starts(with: prefix)
    }

    /// The decimal number in `r`, or nil when it is not one (or overflows).
    func number(_ r: Range<Int>) -> UInt64? {
        guard !r.isEmpty else { return nil }
        var v: UInt64 = 0
        for j in r {
            let c = bytes[j]
            guard c >= 48 && c <= 57 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(c - 48))
            if o1 || o2 { return nil }
            v = a
        }
        return v
    }

    /// True when the field's value contains `word` in any letter case (`word` in lower case).
    func contains(_ f: Field, _ word: StaticString) -> Bool {
        guard let r = range(f), r.count >= word.utf8CodeUnitCount else { return false }
        let w = UnsafeRawBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        var s = r.lowerBound
        while s + w.count <= r.upperBound {
            if Self.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: bytes[s..<(s + w.count)]), w) { return true }
            s += 1
        }
        return false
    }
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
            guard let head = HTTPHead(block), let methodWord = head.word(0), let uriWord = head.word(1) else { return .broken }
            depth += 1
            // Built where it waits for its response: a record is copied nowhere on its way.
            pending.append(HTTPRecord(ts: ts, uid: flow.uid, id: flow.id, transDepth: depth))
            let k = pending.count - 1
            pending[k].method = head.text(methodWord)
            pending[k].uri = head.text(uriWord)
            if let v = head.word(2), head.starts(v, with: "HTTP/") { pending[k].version = head.text(v.dropFirst(5)) }
            pending[k].host = head.value(.host)
            pending[k].userAgent = head.value(.userAgent)
            pending[k].referrer = head.value(.referer)
            pending[k].origin = head.value(.origin)
            let connect = methodWord.count == 7 && head.starts(methodWord, with: "CONNECT")
            // A client pipelining without answers cannot grow this without bound: the oldest
            // unanswered request is logged as it is.
            if pending.count > Self.maxPending { flushed.append(pending.removeFirst()) }
            if connect { return .tunnel }
            return Self.framing(head, isResponse: false, requestMethod: nil)
        case .bodyDone(let n):
            if let last = pending.indices.last { pending[last].requestBodyLength = n }
            return nil
        }
    }

    private func responseEvent(_ e: HTTPStreamReader.Event, flow: FlowInfo, into out: inout AnalyzerOutput) -> HTTPStreamReader.State? {
        switch e {
        case .headers(let block):
            guard let head = HTTPHead(block), let versionWord = head.word(0), let codeWord = head.word(1),
                  head.starts(versionWord, with: "HTTP/") else { return .broken }
            let code = head.number(codeWord).flatMap { UInt16(exactly: $0) } ?? 0
            if (100..<200).contains(code) && code != 101 { return .body(0) }  // interim; the real one follows
            if pending.isEmpty {
                depth += 1
                responding = HTTPRecord(ts: lastTime, uid: flow.uid, id: flow.id, transDepth: depth)
            } else {
                responding = pending.removeFirst()
            }
            // Filled in place.
            responding!.statusCode = code
            responding!.statusMessage = head.word(2).map(head.text)
            responding!.contentType = head.value(.contentType)
            if responding!.version == nil { responding!.version = head.text(versionWord.dropFirst(5)) }
            let method = responding!.method
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
        if head.contains(.transferEncoding, "chunked") { return .chunkSize }
        if let cl = head.range(.contentLength), let n = head.number(cl) { return .body(n) }
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
