import CSodium
import VigilCore

/// What a ClientHello or ServerHello says, as far as logs and fingerprints need.
struct TLSHello {
    var legacyVersion: UInt16 = 0
    var sessionID = SessionID()
    var ciphers: [UInt16] = []
    var extensions: [UInt16] = []
    var supportedVersions: [UInt16] = []
    var signatureAlgorithms: [UInt16] = []
    var serverName: String? = nil
    var alpn: [[UInt8]] = []
    var keyShareGroup: UInt16? = nil

    /// A session id (at most 32 bytes), held inline: comparing a server's to its client's is
    /// all it is for.
    struct SessionID: Equatable {
        var bytes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var count = 0
        init() {}
        init(_ b: UnsafeRawBufferPointer) {
            count = min(b.count, 32)
            withUnsafeMutableBytes(of: &bytes) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: b[0..<count])) }
        }
        var isEmpty: Bool { count == 0 }
        static func == (a: SessionID, b: SessionID) -> Bool { a.count == b.count && a.bytes == b.bytes }
    }

    static func isGREASE(_ v: UInt16) -> Bool { v & 0x0F0F == 0x0A0A && v >> 8 == v & 0xFF }

    /// Parses a ClientHello (`client`) or ServerHello body. Nil if it does not hold together.
    static func parse(_ b: UnsafeRawBufferPointer, client: Bool) -> TLSHello? {
        var h = TLSHello()
        guard let v = b.u16(0) else { return nil }
        h.legacyVersion = v
        var o = 2 + 32
        guard let sidLen = b.u8(o), sidLen <= 32, o + 1 + Int(sidLen) <= b.count else { return nil }
        h.sessionID = SessionID(b.slice(o + 1, Int(sidLen)))
        o += 1 + Int(sidLen)
        if client {
            guard let cl = b.u16(o), cl % 2 == 0, o + 2 + Int(cl) <= b.count else { return nil }
            var k = o + 2
            h.ciphers.reserveCapacity(Int(cl) / 2)
            while k < o + 2 + Int(cl) { if let c = b.u16(k) { h.ciphers.append(c) }; k += 2 }
            o += 2 + Int(cl)
            guard let compLen = b.u8(o), o + 1 + Int(compLen) <= b.count else { return nil }
            o += 1 + Int(compLen)
        } else {
            guard let c = b.u16(o), b.u8(o + 2) != nil else { return nil }
            h.ciphers = [c]
            o += 3
        }
        guard o < b.count else { return h }  // no extensions
        guard let extLen = b.u16(o), o + 2 + Int(extLen) <= b.count else { return nil }
        var e = o + 2
        let end = o + 2 + Int(extLen)
        h.extensions.reserveCapacity(min(Int(extLen) / 4, 64))
        while e + 4 <= end {
            guard let t = b.u16(e), let l = b.u16(e + 2), e + 4 + Int(l) <= end else { return nil }
            let d = e + 4
            h.extensions.append(t)
            switch t {
            case 0 where client:
                // server_name_list: len(2) type(1) name_len(2) name
                if let nl = b.u16(d + 3), b.u8(d + 2) == 0 {
                    h.serverName = b.string(d + 5, min(Int(nl), Int(l) - 5))
                }
            case 16:
                var k = d + 2
                while k < d + Int(l), let n = b.u8(k) {
                    h.alpn.append(Array(b.slice(k + 1, Int(n))))
                    k += 1 + Int(n)
                }
            case 43:
                if client {
                    if let n = b.u8(d) {
                        var k = d + 1
                        h.supportedVersions.reserveCapacity(Int(n) / 2)
                        while k + 1 < d + 1 + Int(n) { if let sv = b.u16(k) { h.supportedVersions.append(sv) }; k += 2 }
                    }
                } else if let sv = b.u16(d) {
                    h.supportedVersions = [sv]
                }
            case 13 where client:
                if let n = b.u16(d) {
                    var k = d + 2
                    h.signatureAlgorithms.reserveCapacity(Int(n) / 2)
                    while k + 1 < d + 2 + Int(n) { if let sa = b.u16(k) { h.signatureAlgorithms.append(sa) }; k += 2 }
                }
            case 51:
                if client {
                    if let g = b.u16(d + 2) { h.keyShareGroup = g }
                } else if let g = b.u16(d) {
                    h.keyShareGroup = g
                }
            default:
                break
            }
            e = d + Int(l)
        }
        return h
    }

    /// The negotiated or offered version: supported_versions wins over the legacy field.
    var version: UInt16 {
        var best: UInt16? = nil
        for v in supportedVersions where !Self.isGREASE(v) { if best.map({ v > $0 }) ?? true { best = v } }
        return best ?? legacyVersion
    }
}

/// JA4 and JA4S TLS fingerprints (FoxIO's specification).
public enum JA4 {
    /// Everything a fingerprint depends on, laid out as one run of bytes: hashed in one call
    /// and compared whole (a hash of the fields alone could be made to collide).
    struct Key: Hashable {
        var bytes: [UInt8]
        init(_ h: TLSHello, server: Bool) {
            let ciphers = server ? min(1, h.ciphers.count) : h.ciphers.count
            let signatures = server ? 0 : h.signatureAlgorithms.count
            let alpn = h.alpn.first ?? []
            let size = 12 + 2 * (ciphers + h.extensions.count + signatures) + alpn.count
            bytes = [UInt8](unsafeUninitializedCapacity: size) { out, n in
                func put(_ v: UInt16) { out[n] = UInt8(truncatingIfNeeded: v >> 8); out[n + 1] = UInt8(truncatingIfNeeded: v); n += 2 }
                out[0] = server ? 1 : 0
                n = 1
                put(h.version)
                out[n] = h.serverName != nil ? 1 : 0
                n += 1
                put(UInt16(truncatingIfNeeded: ciphers))
                for c in h.ciphers.prefix(ciphers) { put(c) }
                put(UInt16(truncatingIfNeeded: h.extensions.count))
                for e in h.extensions { put(e) }
                put(UInt16(truncatingIfNeeded: signatures))
                if !server { for a in h.signatureAlgorithms { put(a) } }
                put(UInt16(truncatingIfNeeded: alpn.count))
                for a in alpn { out[n] = a; n += 1 }
            }
        }
        func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
        static func == (a: Key, b: Key) -> Bool { a.bytes == b.bytes }
    }

    static func alpnCode(_ first: [UInt8]?) -> String {
        guard let a = first, let f = a.first, let l = a.last else { return "00" }
        func alnum(_ c: UInt8) -> Bool { (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) }
        if alnum(f) && alnum(l) { return String(decoding: [f, l], as: UTF8.self) }
        let h = hexString(a)
        return String(h.prefix(1)) + String(h.suffix(1))
    }

    /// The first 12 hex digits of SHA-256 of `text` (libsodium).
    public static func hash12(_ text: String) -> String { hash12(bytes: Array(text.utf8)) }

    static func hash12(bytes: [UInt8]) -> String {
        var digest = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &digest) { d in
            bytes.withUnsafeBufferPointer { src in
                guard let out = d.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
                _ = crypto_hash_sha256(out, src.baseAddress, UInt64(src.count))
            }
        }
        return withUnsafeBytes(of: &digest) { d in
            let hex: StaticString = "0123456789abcdef"
            return String(unsafeUninitializedCapacity: 12) { out in
                for i in 0..<6 { out[2 * i] = hex.utf8Start[Int(d[i] >> 4)]; out[2 * i + 1] = hex.utf8Start[Int(d[i] & 15)] }
                return 12
            }
        }
    }

    /// "0a0a,1301,…": values as four hex digits, comma-separated, appended to `out`.
    static func appendHexList(_ values: [UInt16], to out: inout [UInt8]) {
        let hex: StaticString = "0123456789abcdef"
        for (i, v) in values.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(hex.utf8Start[Int(v >> 12)]); out.append(hex.utf8Start[Int(v >> 8 & 15)])
            out.append(hex.utf8Start[Int(v >> 4 & 15)]); out.append(hex.utf8Start[Int(v & 15)])
        }
    }

    /// Appends a count as two digits, capped at 99.
    @inline(__always) static func appendTwoDigits(_ n: Int, to out: inout [UInt8]) {
        let v = min(n, 99)
        out.append(UInt8(48 + v / 10)); out.append(UInt8(48 + v % 10))
    }

    static func appendASCII(_ s: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    static func versionBytes(_ v: UInt16) -> StaticString {
        switch v {
        case 0x0304: "13"
        case 0x0303: "12"
        case 0x0302: "11"
        case 0x0301: "10"
        case 0x0300: "s3"
        case 0x0002: "s2"
        case 0xFEFF: "d1"
        case 0xFEFD: "d2"
        case 0xFEFC: "d3"
        default: "00"
        }
    }

    static func client(_ h: TLSHello, transport: UInt8 = UInt8(ascii: "t")) -> String {
        var ciphers: [UInt16] = []
        ciphers.reserveCapacity(h.ciphers.count)
        for c in h.ciphers where !TLSHello.isGREASE(c) { ciphers.append(c) }
        var exts: [UInt16] = []
        exts.reserveCapacity(h.extensions.count)
        var extCount = 0
        for e in h.extensions where !TLSHello.isGREASE(e) {
            extCount += 1
            if e != 0 && e != 16 { exts.append(e) }
        }
        var out: [UInt8] = []
        out.reserveCapacity(40)
        out.append(transport)
        appendASCII(versionBytes(h.version), to: &out)
        out.append(h.serverName != nil ? UInt8(ascii: "d") : UInt8(ascii: "i"))
        appendTwoDigits(ciphers.count, to: &out)
        appendTwoDigits(extCount, to: &out)
        out.append(contentsOf: alpnCode(h.alpn.first).utf8)
        out.append(UInt8(ascii: "_"))
        var text: [UInt8] = []
        text.reserveCapacity(5 * max(ciphers.count, exts.count + h.signatureAlgorithms.count) + 8)
        ciphers.sort()
        appendHexList(ciphers, to: &text)
        out.append(contentsOf: (ciphers.isEmpty ? "000000000000" : hash12(bytes: text)).utf8)
        out.append(UInt8(ascii: "_"))
        text.removeAll(keepingCapacity: true)
        exts.sort()
        appendHexList(exts, to: &text)
        if !h.signatureAlgorithms.isEmpty {
            text.append(UInt8(ascii: "_"))
            appendHexList(h.signatureAlgorithms, to: &text)
        }
        out.append(contentsOf: (extCount == 0 ? "000000000000" : hash12(bytes: text)).utf8)
        return String(decoding: out, as: UTF8.self)
    }

    static func server(_ h: TLSHello, transport: UInt8 = UInt8(ascii: "t")) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        out.append(transport)
        appendASCII(versionBytes(h.version), to: &out)
        appendTwoDigits(h.extensions.count, to: &out)
        out.append(contentsOf: alpnCode(h.alpn.first).utf8)
        out.append(UInt8(ascii: "_"))
        appendHexList([h.ciphers.first ?? 0], to: &out)
        out.append(UInt8(ascii: "_"))
        var text: [UInt8] = []
        appendHexList(h.extensions, to: &text)
        out.append(contentsOf: (h.extensions.isEmpty ? "000000000000" : hash12(bytes: text)).utf8)
        return String(decoding: out, as: UTF8.self)
    }
}

/// TLS handshakes found by content: the record header of a handshake at the start of a stream.
/// Logs version, cipher, curve, SNI, ALPN, resumption and JA4/JA4S, like Zeek's ssl.log.
final class TLSAnalyzer: StreamAnalyzer {
    static let registration = AnalyzerRegistration(
        service: "ssl", proto: .tcp,
        detect: { p, _, _, _ in
            guard let t = p.u8(0), let major = p.u8(1), let minor = p.u8(2) else { return false }
            return t == 22 && major == 3 && minor <= 4 && (p.count < 6 || p[5] == 1 || p[5] == 2)
        },
        make: { TLSAnalyzer() })

    @exclusivity(unchecked) private var records: ([UInt8], [UInt8]) = ([], [])      // pending record bytes per direction
    @exclusivity(unchecked) private var handshake: ([UInt8], [UInt8]) = ([], [])    // handshake message bytes per direction
    @exclusivity(unchecked) private var clientHello: TLSHello?
    @exclusivity(unchecked) private var serverHello: TLSHello?
    @exclusivity(unchecked) private var firstSeen: Timestamp?
    @exclusivity(unchecked) private var appData = (false, false)
    @exclusivity(unchecked) private var alert = false
    @exclusivity(unchecked) private var logged = false
    @exclusivity(unchecked) private var stopped = (false, false)
    @exclusivity(unchecked) private var skip = (0, 0)

    override var isDone: Bool { logged }

    override func feed(_ data: UnsafeRawBufferPointer, fromOrig: Bool, at time: Timestamp, flow: FlowInfo, into out: inout AnalyzerOutput) {
        if logged || (fromOrig ? stopped.0 : stopped.1) { return }
        if firstSeen == nil { firstSeen = time }
        // Records other than handshakes are skipped by length, never buffered.
        var input = data
        let pendingSkip = fromOrig ? skip.0 : skip.1
        if pendingSkip > 0 {
            let n = min(pendingSkip, input.count)
            input = input.from(n)
            if fromOrig { skip.0 -= n } else { skip.1 -= n }
            if input.isEmpty { return }
        }
        // Whole records are read where they lie; only a record cut by the segment's end is
        // kept, and later segments are appended to it.
        var consumed = 0, bad = false
        var pending = fromOrig ? records.0 : records.1
        if pending.isEmpty {
            (consumed, bad) = readRecords(input, fromOrig: fromOrig, into: &out)
            if !bad && consumed < input.count { pending.append(contentsOf: input.from(consumed)) }
        } else {
            if fromOrig { records.0 = [] } else { records.1 = [] }   // unique while appended to
            pending.append(contentsOf: input)
            (consumed, bad) = pending.withUnsafeBytes { readRecords($0, fromOrig: fromOrig, into: &out) }
            if consumed > 0 { pending.removeFirst(consumed) }
        }
        if bad || pending.count > 40_000 {
            if bad { out.parseErrors += 1 }
            pending = []
            if fromOrig { stopped.0 = true } else { stopped.1 = true }
        }
        if fromOrig { records.0 = pending } else { records.1 = pending }
        if serverHello != nil && appData.0 && appData.1 {
            log(established: true, flow: flow, into: &out)
        }
    }

    /// Reads the whole records at the start of `buf`: handshakes go to the hello parser, other
    /// records are skipped by length (and a record cut short is skipped over the next segments).
    /// Returns the bytes used and whether the stream stopped looking like TLS.
    private func readRecords(_ buf: UnsafeRawBufferPointer, fromOrig: Bool, into out: inout AnalyzerOutput) -> (Int, Bool) {
        var consumed = 0
        while buf.count - consumed >= 5 {
            let type = buf[consumed]
            let len = Int(buf[consumed + 3]) << 8 | Int(buf[consumed + 4])
            guard (20...24).contains(type), buf[consumed + 1] == 3, len <= 18_432 else { return (consumed, true) }
            if type == 23 { if fromOrig { appData.0 = true } else { appData.1 = true } }
            if type == 21 { alert = true }
            let available = buf.count - consumed - 5
            if type != 22 && available < len {
                if fromOrig { skip.0 = len - available } else { skip.1 = len - available }
                return (buf.count, false)
            }
            guard available >= len else { break }
            if type == 22 { handshakeRecord(buf.slice(consumed + 5, len), fromOrig: fromOrig, into: &out) }
            consumed += 5 + len
        }
        return (consumed, false)
    }

    /// One handshake record's payload. Only the first message of each direction (its hello)
    /// is wanted: it is parsed in place when whole, collected across records when not.
    private func handshakeRecord(_ payload: UnsafeRawBufferPointer, fromOrig: Bool, into out: inout AnalyzerOutput) {
        if fromOrig ? clientHello != nil : serverHello != nil { return }   // later messages are not needed
        let collected = fromOrig ? handshake.0 : handshake.1
        if collected.isEmpty, payload.count >= 4 {
            let len = Int(payload[1]) << 16 | Int(payload[2]) << 8 | Int(payload[3])
            if payload.count >= 4 + len {
                hello(type: payload[0], body: payload.slice(4, len), fromOrig: fromOrig, into: &out)
                return
            }
        }
        if fromOrig { handshake.0.append(contentsOf: payload) } else { handshake.1.append(contentsOf: payload) }
        parseHandshake(fromOrig: fromOrig, into: &out)
    }

    private func hello(type: UInt8, body: UnsafeRawBufferPointer, fromOrig: Bool, into out: inout AnalyzerOutput) {
        if type == 1 && fromOrig && clientHello == nil {
            clientHello = TLSHello.parse(body, client: true)
            if clientHello == nil { out.parseErrors += 1 }
        } else if type == 2 && !fromOrig && serverHello == nil {
            serverHello = TLSHello.parse(body, client: false)
            if serverHello == nil { out.parseErrors += 1 }
        }
        // Later handshake messages (certificates…) are not needed; stop collecting.
        if fromOrig { handshake.0 = [] } else { handshake.1 = [] }
    }

    private func parseHandshake(fromOrig: Bool, into out: inout AnalyzerOutput) {
        let hs = fromOrig ? handshake.0 : handshake.1
        guard hs.count >= 4 else { return }
        let type = hs[0]
        let len = Int(hs[1]) << 16 | Int(hs[2]) << 8 | Int(hs[3])
        guard hs.count >= 4 + len else {
            if hs.count > 70_000 { if fromOrig { handshake.0 = [] } else { handshake.1 = [] } }
            return
        }
        hs.withUnsafeBytes { all in hello(type: type, body: all.slice(4, len), fromOrig: fromOrig, into: &out) }
    }

    private func log(established: Bool, flow: FlowInfo, into out: inout AnalyzerOutput) {
        guard !logged, clientHello != nil || serverHello != nil else { return }
        logged = true
        records = ([], []); handshake = ([], [])
        // The analyzer is done: its hellos are moved out, not copied.
        let server = serverHello.take(), client = clientHello.take()
        var r = TLSRecord(ts: firstSeen ?? .zero, uid: flow.uid, id: flow.id)
        if let s = server {
            r.version = Self.versionName(s.version)
            r.cipher = s.ciphers.first.map(TLSNames.cipher)
            if let g = s.keyShareGroup { r.curve = TLSNames.group(g) }
            if let a = s.alpn.first { r.nextProtocol = String(decoding: a, as: UTF8.self) }
            r.ja4s = out.shared.fingerprint(JA4.Key(s, server: true)) { JA4.server(s) }
            if let c = client {
                r.resumed = (!s.sessionID.isEmpty && s.sessionID == c.sessionID && s.version != 0x0304)
                    || s.extensions.contains(41)
            }
        }
        if let c = client {
            r.serverName = c.serverName
            r.ja4 = out.shared.fingerprint(JA4.Key(c, server: false)) { JA4.client(c) }
            r.clientALPN = c.alpn.map { String(decoding: $0, as: UTF8.self) }
        }
        r.established = established
        out.observations.append(.tls(r))
    }

    override func gap(fromOrig: Bool) {
        if fromOrig { stopped.0 = true; records.0 = [] } else { stopped.1 = true; records.1 = [] }
    }

    override func finish(at time: Timestamp, flow: FlowInfo, into out: inout AnalyzerOutput) {
        log(established: serverHello != nil && (appData.0 || appData.1) && !alert, flow: flow, into: &out)
    }

    static func versionName(_ v: UInt16) -> String {
        switch v {
        case 0x0300: "SSLv3"
        case 0x0301: "TLSv10"
        case 0x0302: "TLSv11"
        case 0x0303: "TLSv12"
        case 0x0304: "TLSv13"
        case 0x0002: "SSLv2"
        default: "unknown-\(v)"
        }
    }
}
