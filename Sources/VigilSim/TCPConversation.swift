import VigilCore

/// Where generated frames go: a builder to write the next frame into, and a queue by time.
protocol FrameSink: AnyObject {
    var builder: PacketBuilder { get set }
    func push(_ ts: Timestamp)
}

extension FrameSink {
    /// A DHCP exchange (discover, offer, request, ack) giving `client` its address, with the
    /// host name in the client's messages.
    func dhcpExchange(mac: UInt64, address: IPAddress, name: String, server: IPAddress, serverMAC: UInt64, xid: UInt32, at t: Timestamp) {
        let cl = PacketBuilder.Endpoint(mac: mac, ip: IPAddress(v4: 0), port: 68)
        let bcast = PacketBuilder.Endpoint(mac: 0xFFFF_FFFF_FFFF, ip: IPAddress(v4: 0xFFFF_FFFF), port: 67)
        let srv = PacketBuilder.Endpoint(mac: serverMAC, ip: server, port: 67)
        let to = PacketBuilder.Endpoint(mac: mac, ip: address, port: 68)
        let steps: [(PacketBuilder.Endpoint, PacketBuilder.Endpoint, UInt8, UInt8)] = [(cl, bcast, 1, 1), (srv, to, 2, 2), (cl, bcast, 1, 3), (srv, to, 2, 5)]
        for (k, (a, b, op, type)) in steps.enumerated() {
            builder.udp(a, b, payloadArray: Payloads.dhcp(op: op, type: type, xid: xid, mac: mac, yiaddr: address.v4, server: server.v4, host: op == 1 ? name : nil))
            push(t + Duration(nanoseconds: Int64(k) * 3_000_000))
        }
    }
}

/// One TCP conversation, written frame by frame with correct sequence numbers and acks.
struct TCPConversation {
    var client: PacketBuilder.Endpoint
    var server: PacketBuilder.Endpoint
    var t: Timestamp
    var rtt: Duration
    var vlan: UInt16?
    var cseq: UInt32
    var sseq: UInt32
    let mss = 1448

    init(client: PacketBuilder.Endpoint, server: PacketBuilder.Endpoint, start: Timestamp, rtt: Duration, vlan: UInt16?, isn: (UInt32, UInt32)) {
        self.client = client; self.server = server; t = start; self.rtt = rtt; self.vlan = vlan
        cseq = isn.0; sseq = isn.1
    }

    var half: Duration { Duration(nanoseconds: rtt.nanoseconds / 2) }

    mutating func segment(_ synth: some FrameSink, fromClient: Bool, flags: UInt8, payload: ArraySlice<UInt8> = []) {
        let (a, b) = fromClient ? (client, server) : (server, client)
        let seq = fromClient ? cseq : sseq
        let ack = flags & 0x10 != 0 ? (fromClient ? sseq : cseq) : 0
        let opts: [UInt8] = flags & 0x02 != 0 ? [2, 4, 0x05, 0xB4, 1, 1, 4, 2] : []
        Array(payload).withUnsafeBytes { p in
            synth.builder.tcp(a, b, seq: seq, ack: ack, flags: flags, payload: p, vlan: vlan, options: opts)
        }
        synth.push(t)
        var advance = UInt32(payload.count)
        if flags & 0x03 != 0 { advance &+= 1 }   // SYN and FIN take a sequence number
        if fromClient { cseq &+= advance } else { sseq &+= advance }
    }

    mutating func handshake(_ s: some FrameSink) {
        segment(s, fromClient: true, flags: 0x02)
        t = t + half
        segment(s, fromClient: false, flags: 0x12)
        t = t + half
        segment(s, fromClient: true, flags: 0x10)
    }

    mutating func send(_ data: [UInt8], fromClient: Bool, _ s: some FrameSink) {
        t = t + Duration(nanoseconds: 200_000)
        var off = 0
        var k = 0
        while off < data.count {
            let n = min(mss, data.count - off)
            segment(s, fromClient: fromClient, flags: 0x18, payload: data[off..<(off + n)])
            off += n
            k += 1
            t = t + Duration(nanoseconds: 50_000)
            if k % 8 == 0 {
                // The receiver acks every few segments.
                let at = t
                t = t + half
                segment(s, fromClient: !fromClient, flags: 0x10)
                t = at
            }
        }
        t = t + half
        segment(s, fromClient: !fromClient, flags: 0x10)
    }

    /// Sends `n` bytes but writes only one full segment per megabyte of sequence space (and the
    /// last one), as a capture with a small snap budget would hold a bulk transfer; byte counts
    /// from sequence numbers stay exact and the gaps show as missed bytes.
    mutating func sendSparse(_ n: Int, fromClient: Bool, _ s: some FrameSink) {
        let chunk = [UInt8](repeating: 0x42, count: mss)
        var left = n
        while left > 0 {
            let step = min(left, 1_000_000)
            let skip = UInt32(max(0, step - mss))
            if fromClient { cseq &+= skip } else { sseq &+= skip }
            t = t + Duration(nanoseconds: Int64(step) * 80)   // about 100 Mbit/s
            segment(s, fromClient: fromClient, flags: 0x18, payload: chunk[0..<min(mss, step)])
            left -= step
        }
        t = t + half
        segment(s, fromClient: !fromClient, flags: 0x10)
    }

    mutating func close(_ s: some FrameSink) {
        t = t + Duration(nanoseconds: 1_000_000)
        segment(s, fromClient: true, flags: 0x11)
        t = t + half
        segment(s, fromClient: false, flags: 0x11)
        t = t + half
        segment(s, fromClient: true, flags: 0x10)
    }

    mutating func reject(_ s: some FrameSink) {
        segment(s, fromClient: true, flags: 0x02)
        t = t + half
        segment(s, fromClient: false, flags: 0x14)
    }

    mutating func unanswered(_ s: some FrameSink, retries: Int) {
        let isn = cseq
        for k in 0...retries {
            cseq = isn
            segment(s, fromClient: true, flags: 0x02)
            t = t + Duration(nanoseconds: Int64(1 << k) * 1_000_000_000)
        }
    }
}
