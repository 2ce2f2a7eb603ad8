import VigilCore

/// Writes an observation as the store's JSON body: exactly the shape Swift's synthesized
/// `Codable` gives (`{"conn":{"_0":{...}}}`, property names as keys, nil optionals left out,
/// times and durations as integer nanoseconds), so `observations()` reads it back with
/// `JSONDecoder` and bodies written by earlier versions read alike. It is written by hand into
/// one reused buffer because `JSONEncoder` was most of `vigil analyze`'s time.
///
/// A property added to a record must be added here too; `ObservationBodyTests` compares every
/// record's properties with the keys written.
struct ObservationBody {
    private(set) var bytes: [UInt8] = []
    private var first = true

    init() { bytes.reserveCapacity(1024) }

    mutating func write(_ o: Observation) {
        bytes.removeAll(keepingCapacity: true)
        first = true
        switch o {
        case .conn(let r): wrapped("conn") { $0.conn(r) }
        case .dns(let r): wrapped("dns") { $0.dns(r) }
        case .http(let r): wrapped("http") { $0.http(r) }
        case .tls(let r): wrapped("tls") { $0.tls(r) }
        case .ssh(let r): wrapped("ssh") { $0.ssh(r) }
        case .dhcp(let r): wrapped("dhcp") { $0.dhcp(r) }
        }
    }

    /// `{"case":{"_0":{...}}}`, as Codable writes an enum case with one unlabelled value.
    private mutating func wrapped(_ name: StaticString, _ body: (inout ObservationBody) -> Void) {
        object { w in w.key(name); w.object { w in w.key("_0"); w.object(body) } }
    }

    // MARK: - Records

    private mutating func conn(_ r: ConnRecord) {
        common(r.ts, r.uid, r.id)
        key("service"); strings(r.service)
        if let v = r.duration { key("duration"); int(v.nanoseconds) }
        if let v = r.origBytes { key("origBytes"); uint(v) }
        if let v = r.respBytes { key("respBytes"); uint(v) }
        if let v = r.connState { key("connState"); string(v) }
        if let v = r.localOrig { key("localOrig"); bool(v) }
        if let v = r.localResp { key("localResp"); bool(v) }
        if let v = r.missedBytes { key("missedBytes"); uint(v) }
        if let v = r.history { key("history"); string(v) }
        if let v = r.origPackets { key("origPackets"); uint(v) }
        if let v = r.origIPBytes { key("origIPBytes"); uint(v) }
        if let v = r.respPackets { key("respPackets"); uint(v) }
        if let v = r.respIPBytes { key("respIPBytes"); uint(v) }
        key("tunnelParents"); strings(r.tunnelParents)
        if let v = r.origMAC { key("origMAC"); string(v.description) }
        if let v = r.respMAC { key("respMAC"); string(v.description) }
        extra(r.extra)
    }

    private mutating func dns(_ r: DNSRecord) {
        common(r.ts, r.uid, r.id)
        if let v = r.transID { key("transID"); uint(UInt64(v)) }
        if let v = r.rtt { key("rtt"); int(v.nanoseconds) }
        if let v = r.query { key("query"); string(v) }
        if let v = r.qclass { key("qclass"); uint(UInt64(v)) }
        if let v = r.qtype { key("qtype"); uint(UInt64(v)) }
        if let v = r.rcode { key("rcode"); uint(UInt64(v)) }
        key("authoritative"); bool(r.authoritative)
        key("truncated"); bool(r.truncated)
        key("recursionDesired"); bool(r.recursionDesired)
        key("recursionAvailable"); bool(r.recursionAvailable)
        key("z"); uint(UInt64(r.z))
        key("answers"); strings(r.answers)
        key("ttls"); array(r.ttls) { $0.double($1) }
        key("rejected"); bool(r.rejected)
        extra(r.extra)
    }

    private mutating func http(_ r: HTTPRecord) {
        common(r.ts, r.uid, r.id)
        key("transDepth"); uint(UInt64(r.transDepth))
        if let v = r.method { key("method"); string(v) }
        if let v = r.host { key("host"); string(v) }
        if let v = r.uri { key("uri"); string(v) }
        if let v = r.referrer { key("referrer"); string(v) }
        if let v = r.version { key("version"); string(v) }
        if let v = r.userAgent { key("userAgent"); string(v) }
        if let v = r.origin { key("origin"); string(v) }
        key("requestBodyLength"); uint(r.requestBodyLength)
        key("responseBodyLength"); uint(r.responseBodyLength)
        if let v = r.statusCode { key("statusCode"); uint(UInt64(v)) }
        if let v = r.statusMessage { key("statusMessage"); string(v) }
        if let v = r.contentType { key("contentType"); string(v) }
        extra(r.extra)
    }

    private mutating func tls(_ r: TLSRecord) {
        common(r.ts, r.uid, r.id)
        if let v = r.version { key("version"); string(v) }
        if let v = r.cipher { key("cipher"); string(v) }
        if let v = r.curve { key("curve"); string(v) }
        if let v = r.serverName { key("serverName"); string(v) }
        key("resumed"); bool(r.resumed)
        if let v = r.nextProtocol { key("nextProtocol"); string(v) }
        key("established"); bool(r.established)
        if let v = r.ja4 { key("ja4"); string(v) }
        if let v = r.ja4s { key("ja4s"); string(v) }
        key("clientALPN"); strings(r.clientALPN)
        extra(r.extra)
    }

    private mutating func ssh(_ r: SSHRecord) {
        common(r.ts, r.uid, r.id)
        if let v = r.version { key("version"); uint(UInt64(v)) }
        if let v = r.authSuccess { key("authSuccess"); bool(v) }
        key("authAttempts"); uint(UInt64(r.authAttempts))
        if let v = r.client { key("client"); string(v) }
        if let v = r.server { key("server"); string(v) }
        if let v = r.cipherAlg { key("cipherAlg"); string(v) }
        if let v = r.macAlg { key("macAlg"); string(v) }
        if let v = r.compressionAlg { key("compressionAlg"); string(v) }
        if let v = r.kexAlg { key("kexAlg"); string(v) }
        if let v = r.hostKeyAlg { key("hostKeyAlg"); string(v) }
        extra(r.extra)
    }

    private mutating func dhcp(_ r: DHCPRecord) {
        key("ts"); int(r.ts.nanoseconds)
        key("uids"); strings(r.uids)
        if let v = r.clientAddr { key("clientAddr"); address(v) }
        if let v = r.serverAddr { key("serverAddr"); address(v) }
        if let v = r.mac { key("mac"); string(v.description) }
        if let v = r.hostName { key("hostName"); string(v) }
        if let v = r.clientFQDN { key("clientFQDN"); string(v) }
        if let v = r.domain { key("domain"); string(v) }
        if let v = r.requestedAddr { key("requestedAddr"); address(v) }
        if let v = r.assignedAddr { key("assignedAddr"); address(v) }
        if let v = r.leaseTime { key("leaseTime"); int(v.nanoseconds) }
        key("msgTypes"); strings(r.msgTypes)
        if let v = r.duration { key("duration"); int(v.nanoseconds) }
        extra(r.extra)
    }

    private mutating func common(_ ts: Timestamp, _ uid: String, _ id: ConnectionID) {
        key("ts"); int(ts.nanoseconds)
        key("uid"); string(uid)
        key("id")
        object { w in
            w.key("origHost"); w.address(id.origHost)
            w.key("origPort"); w.uint(UInt64(id.origPort))
            w.key("respHost"); w.address(id.respHost)
            w.key("respPort"); w.uint(UInt64(id.respPort))
            w.key("proto"); w.uint(UInt64(id.proto.rawValue))
        }
    }

    private mutating func extra(_ e: ExtraFields) {
        key("extra")
        object { w in for (k, v) in e { w.key(text: k); w.string(v) } }
    }

    // MARK: - JSON

    private mutating func object(_ body: (inout ObservationBody) -> Void) {
        bytes.append(UInt8(ascii: "{"))
        first = true
        body(&self)
        bytes.append(UInt8(ascii: "}"))
        first = false
    }

    private mutating func array<T>(_ items: [T], _ each: (inout ObservationBody, T) -> Void) {
        bytes.append(UInt8(ascii: "["))
        for (i, item) in items.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            each(&self, item)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    private mutating func strings(_ items: [String]) { array(items) { $0.string($1) } }

    /// A field name of ours: a literal that needs no escape, copied as it is.
    private mutating func key(_ k: StaticString) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        bytes.append(UInt8(ascii: "\""))
        raw(k)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// A field name from the input (extra Zeek fields), escaped as any text.
    private mutating func key(text k: String) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        string(k)
        bytes.append(UInt8(ascii: ":"))
    }

    /// Literal bytes, as they are.
    private mutating func raw(_ s: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// An address as JSON text, written straight into the body (no `String` in between).
    private mutating func address(_ a: IPAddress) {
        bytes.append(UInt8(ascii: "\""))
        withUnsafeTemporaryAllocation(byteCount: 48, alignment: 1) { buf in
            let n = a.writeText(into: buf)
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[0..<n]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        // Most text needs no escape: it is copied whole, found so by one pass over its bytes
        // in place (appending byte by byte from the UTF-8 view was 5% of `analyze`).
        var s = s
        let plain = s.withUTF8 { buf -> Bool in
            for b in buf where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { return false }
            bytes.append(contentsOf: buf)
            return true
        }
        if plain { bytes.append(UInt8(ascii: "\"")); return }
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\\")); bytes.append(b)
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(b)
            case 0..<0x20:
                let hex: StaticString = "0123456789abcdef"
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                          hex.utf8Start[Int(b >> 4)], hex.utf8Start[Int(b & 15)]])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func bool(_ v: Bool) {
        raw(v ? "true" : "false")
    }

    private mutating func uint(_ v: UInt64) {
        let start = bytes.count
        var rest = v
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        bytes[start...].reverse()
    }

    private mutating func int(_ v: Int64) {
        if v < 0 { bytes.append(UInt8(ascii: "-")); uint(v.magnitude) } else { uint(UInt64(v)) }
    }

    /// Whole numbers as integers; others in Swift's shortest round-tripping form; a value JSON
    /// cannot hold (inf, nan from a hostile log) as 0 rather than failing the whole store.
    private mutating func double(_ d: Double) {
        guard d.isFinite else { bytes.append(UInt8(ascii: "0")); return }
        if d == d.rounded(), abs(d) < 9e15 { int(Int64(d)); return }
        bytes.append(contentsOf: d.description.utf8)
    }
}
