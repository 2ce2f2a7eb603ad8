import VigilCore

/// One DHCP message's fields.
struct DHCPMessage {
    var op: UInt8 = 0
    var xid: UInt32 = 0
    var ciaddr: UInt32 = 0
    var yiaddr: UInt32 = 0
    var mac: UInt64 = 0
    var type: UInt8 = 0
    var hostName: String?
    var fqdn: String?
    var domain: String?
    var requested: UInt32?
    var serverID: UInt32?
    var lease: UInt32?

    static func isDHCP(_ b: UnsafeRawBufferPointer) -> Bool {
        guard b.count >= 240, let op = b.u8(0), let htype = b.u8(1), let hlen = b.u8(2), let cookie = b.u32(236) else { return false }
        return (op == 1 || op == 2) && htype == 1 && hlen == 6 && cookie == 0x6382_5363
    }

    static func parse(_ b: UnsafeRawBufferPointer) -> DHCPMessage? {
        guard isDHCP(b), let xid = b.u32(4), let ci = b.u32(12), let yi = b.u32(16),
              let mh = b.u32(28), let ml = b.u16(32) else { return nil }
        var m = DHCPMessage(op: b[0], xid: xid, ciaddr: ci, yiaddr: yi, mac: UInt64(mh) << 16 | UInt64(ml))
        var o = 240
        while o < b.count, let code = b.u8(o) {
            if code == 255 { break }
            if code == 0 { o += 1; continue }
            guard let len = b.u8(o + 1), o + 2 + Int(len) <= b.count else { return nil }
            let d = o + 2, n = Int(len)
            switch code {
            case 53: m.type = b.u8(d) ?? 0
            case 12: m.hostName = b.string(d, n)
            case 15: m.domain = b.string(d, n)
            case 81: if n > 3 { m.fqdn = b.string(d + 3, n - 3) }
            case 50: m.requested = n == 4 ? b.u32(d) : nil
            case 54: m.serverID = n == 4 ? b.u32(d) : nil
            case 51: m.lease = n == 4 ? b.u32(d) : nil
            default: break
            }
            o = d + n
        }
        return m
    }

    static let typeNames = ["", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM",
                            "FORCERENEW", "LEASEQUERY", "LEASEUNASSIGNED", "LEASEUNKNOWN", "LEASEACTIVE"]
}

/// Gathers the messages of one DHCP transaction (same xid and client MAC), which cross
/// several connections, into one dhcp.log record. Bounded: the oldest is flushed when full.
struct DHCPAggregator {
    struct Key: Hashable { var xid: UInt32; var mac: UInt64 }
    var open: [Key: DHCPRecord] = [:]
    var last: [Key: Timestamp] = [:]
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    mutating func add(_ m: DHCPMessage, at time: Timestamp, flow: FlowInfo, into out: inout AnalyzerOutput) {
        let key = Key(xid: m.xid, mac: m.mac)
        if open.count >= capacity, open[key] == nil, let oldest = last.min(by: { $0.value < $1.value })?.key {
            flush(oldest, into: &out)
        }
        // Updated in place in the table: one lookup, no copy of the record.
        Self.merge(m, uid: flow.uid, at: time, into: &open[key, default: DHCPRecord(ts: time, uids: [], mac: MACAddress(m.mac))])
        last[key] = time
        // ACK, NAK, RELEASE, DECLINE and INFORM end a transaction.
        if (4...7).contains(m.type) { flush(key, into: &out) }
    }

    static func merge(_ m: DHCPMessage, uid: String, at time: Timestamp, into r: inout DHCPRecord) {
        if !r.uids.contains(uid) { r.uids.append(uid) }
        if m.type < DHCPMessage.typeNames.count { r.msgTypes.append(DHCPMessage.typeNames[Int(m.type)]) }
        if let h = m.hostName { r.hostName = h }
        if let f = m.fqdn { r.clientFQDN = f }
        if let d = m.domain { r.domain = d }
        if let q = m.requested { r.requestedAddr = IPAddress(v4: q) }
        if m.ciaddr != 0 { r.clientAddr = IPAddress(v4: m.ciaddr) }
        if m.op == 2 {
            if m.yiaddr != 0 { r.assignedAddr = IPAddress(v4: m.yiaddr) }
            if let s = m.serverID { r.serverAddr = IPAddress(v4: s) }
            if let l = m.lease { r.leaseTime = .seconds(Int64(l)) }
        }
        r.duration = time - r.ts
    }

    mutating func flush(_ key: Key, into out: inout AnalyzerOutput) {
        if let r = open.removeValue(forKey: key) { out.observations.append(.dhcp(r)) }
        last[key] = nil
    }

    mutating func expire(now: Timestamp, into out: inout AnalyzerOutput) {
        guard !open.isEmpty else { return }
        for (k, t) in last where now - t > .seconds(60) { flush(k, into: &out) }
    }

    mutating func flushAll(into out: inout AnalyzerOutput) {
        for k in open.keys.sorted(by: { (open[$0]?.ts ?? .zero) < (open[$1]?.ts ?? .zero) }) { flush(k, into: &out) }
    }
}

/// DHCP found by the BOOTP magic cookie; hands each message to the shared aggregator.
final class DHCPAnalyzer: StreamAnalyzer {
    static let registration = AnalyzerRegistration(
        service: "dhcp", proto: .udp,
        detect: { p, _, _, _ in DHCPMessage.isDHCP(p) },
        make: { DHCPAnalyzer() })

    override func feed(_ data: UnsafeRawBufferPointer, fromOrig: Bool, at time: Timestamp, flow: FlowInfo, into out: inout AnalyzerOutput) {
        guard let m = DHCPMessage.parse(data) else { out.parseErrors += 1; return }
        out.shared.dhcp.add(m, at: time, flow: flow, into: &out)
    }
}
