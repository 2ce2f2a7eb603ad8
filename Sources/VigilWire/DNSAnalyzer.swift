import VigilCore

/// A parsed DNS message: the header, the first question, and the answers Zeek logs.
struct DNSMessage {
    var id: UInt16 = 0
    var isResponse = false
    var opcode: UInt8 = 0
    var aa = false, tc = false, rd = false, ra = false
    var z: UInt8 = 0
    var rcode: UInt16 = 0
    var qdcount = 0, ancount = 0
    var query: String? = nil
    var qtype: UInt16? = nil
    var qclass: UInt16? = nil
    var answers: [String] = []
    var ttls: [Double] = []

    /// Parses a whole message. With `materialize` false it only validates (no allocation).
    /// Returns nil unless every section parses inside the buffer.
    static func parse(_ b: UnsafeRawBufferPointer, materialize: Bool) -> DNSMessage? {
        guard b.count >= 12, let id = b.u16(0), let flags = b.u16(2), let qd = b.u16(4), let an = b.u16(6),
              let ns = b.u16(8), let ar = b.u16(10) else { return nil }
        var m = DNSMessage()
        m.id = id
        m.isResponse = flags & 0x8000 != 0
        m.opcode = UInt8((flags >> 11) & 0xF)
        guard m.opcode <= 5 && m.opcode != 3 else { return nil }
        m.aa = flags & 0x0400 != 0
        m.tc = flags & 0x0200 != 0
        m.rd = flags & 0x0100 != 0
        m.ra = flags & 0x0080 != 0
        m.z = UInt8((flags >> 4) & 0x7)
        m.rcode = flags & 0xF
        m.qdcount = Int(qd)
        m.ancount = Int(an)
        guard qd <= 8, Int(an) + Int(ns) + Int(ar) <= 512 else { return nil }
        if !m.isResponse && qd == 0 { return nil }
        var off = 12
        for q in 0..<Int(qd) {
            let after: Int?
            if materialize && q == 0 {
                guard let (name, end) = nameText(b, at: off) else { return nil }
                m.query = name.isEmpty ? "<root>" : name
                after = end
            } else {
                after = skipName(b, at: off)
            }
            guard let after, let t = b.u16(after), let c = b.u16(after + 2) else { return nil }
            if q == 0 {
                m.qtype = t
                m.qclass = c
            }
            off = after + 4
        }
        if materialize && an > 0 {
            m.answers.reserveCapacity(Int(an))
            m.ttls.reserveCapacity(Int(an))
        }
        for r in 0..<(Int(an) + Int(ns) + Int(ar)) {
            guard let after = skipName(b, at: off), let t = b.u16(after), let ttl = b.u32(after + 4),
                  let rdlen = b.u16(after + 8) else { return nil }
            let rdata = after + 10
            guard rdata + Int(rdlen) <= b.count else { return nil }
            if materialize && r < Int(an) {
                if let text = answerText(b, type: t, at: rdata, length: Int(rdlen)) {
                    m.answers.append(text)
                    m.ttls.append(Double(ttl))
                }
            }
            off = rdata + Int(rdlen)
        }
        return m
    }

    /// Reads a possibly compressed name; returns the offset after it in the message. With
    /// `out`, the dotted name is written there (at most 255 bytes, which a valid name never
    /// exceeds) and its length put in `length`.
    static func readName(_ b: UnsafeRawBufferPointer, at start: Int, into out: UnsafeMutableRawBufferPointer?, length: inout Int) -> Int? {
        var off = start
        var resume: Int? = nil
        var jumps = 0
        var total = 0
        length = 0
        while true {
            guard let len = b.u8(off) else { return nil }
            if len == 0 { return resume ?? off + 1 }
            if len & 0xC0 == 0xC0 {
                guard let lo = b.u8(off + 1) else { return nil }
                if resume == nil { resume = off + 2 }
                jumps += 1
                guard jumps < 32 else { return nil }
                let target = Int(len & 0x3F) << 8 | Int(lo)
                guard target < off else { return nil }
                off = target
                continue
            }
            guard len & 0xC0 == 0, off + 1 + Int(len) <= b.count else { return nil }
            total += Int(len) + 1
            guard total <= 255 else { return nil }
            if let out {
                if length > 0 { out[length] = UInt8(ascii: "."); length += 1 }
                UnsafeMutableRawBufferPointer(rebasing: out[length..<(length + Int(len))])
                    .copyMemory(from: b.slice(off + 1, Int(len)))
                length += Int(len)
            }
            off += 1 + Int(len)
        }
    }

    /// The name at `start` as text, and the offset after it.
    static func nameText(_ b: UnsafeRawBufferPointer, at start: Int) -> (String, Int)? {
        withUnsafeTemporaryAllocation(byteCount: 256, alignment: 1) { buf in
            var n = 0
            guard let end = readName(b, at: start, into: buf, length: &n) else { return nil }
            return (String(decoding: UnsafeRawBufferPointer(rebasing: buf[0..<n]), as: UTF8.self), end)
        }
    }

    static func skipName(_ b: UnsafeRawBufferPointer, at start: Int) -> Int? {
        var n = 0
        return readName(b, at: start, into: nil, length: &n)
    }

    static func answerText(_ b: UnsafeRawBufferPointer, type: UInt16, at o: Int, length: Int) -> String? {
        switch type {
        case 1:
            guard length == 4, let v = b.u32(o) else { return nil }
            return IPAddress(v4: v).description
        case 28:
            guard length == 16, let h = b.u64(o), let l = b.u64(o + 8) else { return nil }
            return IPAddress(high: h, low: l).description
        case 2, 5, 12:
            return nameText(b, at: o)?.0
        case 15:
            return nameText(b, at: o + 2)?.0
        case 33:
            return nameText(b, at: o + 6)?.0
        case 16:
            var parts: [String] = []
            var k = o
            while k < o + length, let n = b.u8(k) {
                parts.append(b.string(k + 1, min(Int(n), o + length - k - 1)))
                k += 1 + Int(n)
            }
            return "TXT " + parts.joined(separator: " ")
        default:
            return nil
        }
    }
}

/// DNS over UDP (one message a datagram) and TCP (length-prefixed messages), found by
/// parsing, not by port: a datagram is DNS when the whole message parses.
final class DNSAnalyzer: StreamAnalyzer {
    struct Pending {
        var ts: Timestamp
        var message: DNSMessage
    }
    /// Queries waiting for their answer, oldest first. Usually one: a list searched by id is
    /// cheaper than a dictionary for so few.
    @exclusivity(unchecked) private var pending: [Pending] = []
    private let overTCP: Bool
    @exclusivity(unchecked) private var buffers: ([UInt8], [UInt8]) = ([], [])
    @exclusivity(unchecked) private var broken = (false, false)

    init(overTCP: Bool) { self.overTCP = overTCP }

    static let udpRegistration = AnalyzerRegistration(
        service: "dns", proto: .udp,
        detect: { payload, _, _, _ in DNSMessage.parse(payload, materialize: false) != nil },
        make: { DNSAnalyzer(overTCP: false) })

    static let tcpRegistration = AnalyzerRegistration(
        service: "dns", proto: .tcp,
        detect: { payload, _, op, rp in
            guard let len = payload.u16(0), len >= 12 else { return false }
            let body = payload.slice(2, Int(len))
            guard body.count == Int(len) || op == 53 || rp == 53 else { return false }
            return body.count >= 12 && (DNSMessage.parse(body, materialize: false) != nil || rp == 53)
        },
        make: { DNSAnalyzer(overTCP: true) })

    override func feed(_ data: UnsafeRawBufferPointer, fromOrig: Bool, at time: Timestamp, flow: FlowInfo, into out: inout AnalyzerOutput) {
        if !overTCP {
            message(data, at: time, flow: flow, proto: "udp", into: &out)
            return
        }
        if fromOrig ? broken.0 : broken.1 { return }
        // Take the buffer out so appending does not copy it (it stays uniquely referenced).
        var buf = fromOrig ? buffers.0 : buffers.1
        if fromOrig { buffers.0 = [] } else { buffers.1 = [] }
        buf.append(contentsOf: data)
        var consumed = 0
        while buf.count - consumed >= 2 {
            let len = Int(buf[consumed]) << 8 | Int(buf[consumed + 1])
            guard buf.count - consumed - 2 >= len else { break }
            buf.withUnsafeBytes { all in
                message(all.slice(consumed + 2, len), at: time, flow: flow, proto: "tcp", into: &out)
            }
            consumed += 2 + len
        }
        if consumed > 0 { buf.removeFirst(consumed) }
        if buf.count > 70_000 { buf = []; if fromOrig { broken.0 = true } else { broken.1 = true } }
        if fromOrig { buffers.0 = buf } else { buffers.1 = buf }
    }

    override func gap(fromOrig: Bool) {
        if fromOrig { broken.0 = true; buffers.0 = [] } else { broken.1 = true; buffers.1 = [] }
    }

    private func message(_ data: UnsafeRawBufferPointer, at time: Timestamp, flow: FlowInfo, proto: String, into out: inout AnalyzerOutput) {
        guard let m = DNSMessage.parse(data, materialize: true) else {
            out.parseErrors += 1
            return
        }
        let waiting = pending.firstIndex { $0.message.id == m.id }
        if !m.isResponse {
            if let k = waiting { emit(query: pending.remove(at: k), response: nil, at: time, flow: flow, into: &out) }
            if pending.count >= 1024, let k = pending.indices.min(by: { pending[$0].ts < pending[$1].ts }) {
                emit(query: pending.remove(at: k), response: nil, at: time, flow: flow, into: &out)
            }
            pending.append(Pending(ts: time, message: m))
            return
        }
        let q = waiting.map { pending.remove(at: $0) }
        emit(query: q, response: (time, m), at: time, flow: flow, into: &out)
    }

    private func emit(query: Pending?, response: (Timestamp, DNSMessage)?, at time: Timestamp, flow: FlowInfo, into out: inout AnalyzerOutput) {
        let base = response?.1 ?? query?.message
        guard let base else { return }
        let r = response?.1
        let q = query?.message
        var rec = DNSRecord(ts: query?.ts ?? response?.0 ?? time, uid: flow.uid, id: flow.id)
        rec.transID = base.id
        if let qt = query?.ts, let rt = response?.0 { rec.rtt = rt - qt }
        rec.query = q?.query ?? r?.query
        rec.qclass = q?.qclass ?? r?.qclass
        rec.qtype = q?.qtype ?? r?.qtype
        rec.rd = q?.rd ?? r?.rd ?? false
        if let r {
            rec.rcode = r.rcode
            rec.authoritative = r.aa
            rec.truncated = r.tc
            rec.recursionAvailable = r.ra
            rec.z = r.z
            rec.answers = r.answers
            rec.ttls = r.ttls
            rec.rejected = r.rcode == 5
        } else if let q {
            rec.truncated = q.tc
            rec.z = q.z
        }
        out.observations.append(.dns(rec))
    }

    override func finish(at time: Timestamp, flow: FlowInfo, into out: inout AnalyzerOutput) {
        for p in pending.sorted(by: { $0.ts < $1.ts }) {
            emit(query: p, response: nil, at: time, flow: flow, into: &out)
        }
        pending = []
    }
}

extension DNSRecord {
    /// `rd` is the query's recursion-desired flag.
    var rd: Bool {
        get { recursionDesired }
        set { recursionDesired = newValue }
    }
}
