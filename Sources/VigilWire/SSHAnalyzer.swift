import VigilCore

/// SSH found by its banner ("SSH-2.0-…"). Logs both software banners and the algorithms
/// negotiated from the two KEXINIT messages (Zeek's ssh.log).
final class SSHAnalyzer: StreamAnalyzer {
    static let registration = AnalyzerRegistration(
        service: "ssh", proto: .tcp,
        detect: { p, _, _, _ in p.starts(with: "SSH-") },
        make: { SSHAnalyzer() })

    @exclusivity(unchecked) private var buffers: ([UInt8], [UInt8]) = ([], [])
    @exclusivity(unchecked) private var banners: (String?, String?) = (nil, nil)
    /// Each side's KEXINIT payload, kept whole with where its ten name-lists lie; only the
    /// negotiated names become strings.
    struct KexInit { var payload: [UInt8]; var lists: [Range<Int>] }
    @exclusivity(unchecked) private var kex: (KexInit?, KexInit?) = (nil, nil)
    @exclusivity(unchecked) private var firstSeen: Timestamp?
    @exclusivity(unchecked) private var logged = false
    @exclusivity(unchecked) private var stopped = (false, false)

    override var isDone: Bool { logged }

    override func feed(_ data: UnsafeRawBufferPointer, fromOrig: Bool, at time: Timestamp, flow: FlowInfo, into out: inout AnalyzerOutput) {
        if logged || (fromOrig ? stopped.0 : stopped.1) { return }
        if firstSeen == nil { firstSeen = time }
        // Take the buffer out so appending does not copy it (it stays uniquely referenced).
        var buf = fromOrig ? buffers.0 : buffers.1
        if fromOrig { buffers.0 = [] } else { buffers.1 = [] }
        buf.append(contentsOf: data)
        var banner = fromOrig ? banners.0 : banners.1
        var consumed = 0
        // Banner lines: a server may send other lines before its "SSH-" line.
        while banner == nil, let nl = buf[consumed...].firstIndex(of: 10) {
            var line = buf[consumed..<nl]
            if line.last == 13 { line = line.dropLast() }
            consumed = nl + 1
            if line.count >= 4, line[line.startIndex] == 0x53, line[line.startIndex + 1] == 0x53,
               line[line.startIndex + 2] == 0x48, line[line.startIndex + 3] == 0x2D {  // "SSH-"
                banner = String(decoding: line, as: UTF8.self)
            }
            if consumed > 8192 { break }
        }
        if banner != nil {
            if fromOrig { banners.0 = banner } else { banners.1 = banner }
            let have = fromOrig ? kex.0 != nil : kex.1 != nil
            if !have, buf.count - consumed >= 6 {
                let len = Int(buf[consumed]) << 24 | Int(buf[consumed + 1]) << 16 | Int(buf[consumed + 2]) << 8 | Int(buf[consumed + 3])
                if len > 35_000 || len < 2 {
                    stop(fromOrig)
                } else if buf.count - consumed - 4 >= len {
                    let pad = Int(buf[consumed + 4])
                    let payload = Array(buf[(consumed + 5)..<(consumed + 4 + max(1, len - pad))])
                    if payload.first == 20 {
                        if let lists = payload.withUnsafeBytes({ Self.nameLists($0) }) {
                            let k = KexInit(payload: payload, lists: lists)
                            if fromOrig { kex.0 = k } else { kex.1 = k }
                        } else {
                            out.parseErrors += 1
                        }
                    }
                    consumed += 4 + len
                }
            }
        }
        if consumed > 0 { buf.removeFirst(min(consumed, buf.count)) }
        if buf.count > 70_000 { stop(fromOrig); buf = [] }
        if fromOrig { buffers.0 = buf } else { buffers.1 = buf }
        if kex.0 != nil && kex.1 != nil { log(flow: flow, into: &out) }
    }

    private func stop(_ fromOrig: Bool) {
        if fromOrig { stopped.0 = true; buffers.0 = [] } else { stopped.1 = true; buffers.1 = [] }
    }

    /// Where the ten name-lists of a KEXINIT payload lie (after the message byte and cookie).
    static func nameLists(_ p: UnsafeRawBufferPointer) -> [Range<Int>]? {
        var o = 17
        var lists: [Range<Int>] = []
        lists.reserveCapacity(10)
        for _ in 0..<10 {
            guard let n32 = p.u32(o) else { return nil }
            let n = Int(n32)
            guard o + 4 + n <= p.count else { return nil }
            lists.append((o + 4)..<(o + 4 + n))
            o += 4 + n
        }
        return lists
    }

    /// The first name of the client's list `k` that the server's list `k` also holds (the
    /// algorithm SSH negotiates), compared as bytes.
    static func negotiated(_ k: Int, client c: UnsafeRawBufferPointer, _ cl: [Range<Int>],
                           server s: UnsafeRawBufferPointer, _ sl: [Range<Int>]) -> String? {
        var found: String?
        forEachName(in: c, cl[k]) { name in
            forEachName(in: s, sl[k]) { offered in
                if offered.elementsEqual(name) { found = String(decoding: name, as: UTF8.self) }
                return found == nil
            }
            return found == nil
        }
        return found
    }

    /// Calls `body` with each non-empty comma-separated name of `list` in `b`, while it
    /// returns true.
    static func forEachName(in b: UnsafeRawBufferPointer, _ list: Range<Int>, _ body: (UnsafeRawBufferPointer) -> Bool) {
        var i = list.lowerBound
        while i < list.upperBound {
            let e = b.firstIndex(of: UInt8(ascii: ","), from: i).map { min($0, list.upperBound) } ?? list.upperBound
            if e > i, !body(UnsafeRawBufferPointer(rebasing: b[i..<e])) { return }
            i = e + 1
        }
    }

    private func log(flow: FlowInfo, into out: inout AnalyzerOutput) {
        guard !logged, banners.0 != nil || banners.1 != nil else { return }
        logged = true
        buffers = ([], [])
        var r = SSHRecord(ts: firstSeen ?? .zero, uid: flow.uid, id: flow.id)
        r.client = banners.0
        r.server = banners.1
        let b = banners.0 ?? banners.1 ?? ""
        r.version = b.hasPrefix("SSH-1.") && !b.hasPrefix("SSH-1.99") ? 1 : 2
        if let c = kex.0, let s = kex.1 {
            c.payload.withUnsafeBytes { cb in
                s.payload.withUnsafeBytes { sb in
                    func pick(_ k: Int) -> String? { Self.negotiated(k, client: cb, c.lists, server: sb, s.lists) }
                    r.kexAlg = pick(0)
                    r.hostKeyAlg = pick(1)
                    r.cipherAlg = pick(2)
                    r.macAlg = pick(4)
                    r.compressionAlg = pick(6)
                }
            }
        }
        out.observations.append(.ssh(r))
    }

    override func gap(fromOrig: Bool) { stop(fromOrig) }

    override func finish(at time: Timestamp, flow: FlowInfo, into out: inout AnalyzerOutput) {
        log(flow: flow, into: &out)
    }
}
