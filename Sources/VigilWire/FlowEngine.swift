import VigilCore

/// The engine's state and per-packet logic, as one value: the class `PacketEngine` holds it,
/// so a packet costs one access to the class instead of one per field touched.
struct FlowEngine {
    let configuration: WireConfiguration
    var stats = DecodeStats()
    var output: [Observation] = []
    var now = Timestamp.zero
    private var nextHousekeeping = Timestamp.zero

    var table: FlowTable
    var fragments: FragmentReassembler
    var rng: SplitMix64
    var analyzerOut: AnalyzerOutput
    let shared: SharedAnalyzerState

    init(configuration: WireConfiguration) {
        self.configuration = configuration
        table = FlowTable(capacity: configuration.maxFlows, seed: configuration.hashSeed)
        fragments = FragmentReassembler(capacity: configuration.maxPendingFragments, timeout: configuration.fragmentTimeout)
        rng = SplitMix64(seed: configuration.uidSeed)
        shared = SharedAnalyzerState(configuration: configuration)
        analyzerOut = AnalyzerOutput(shared: shared)
        output.reserveCapacity(64)
    }

    /// Connections currently tracked.
    var activeFlows: Int { table.count }

    /// Decodes one captured packet.
    mutating func process(_ packet: UnsafeRawBufferPointer, link: LinkType, at ts: Timestamp) {
        stats.packets &+= 1
        stats.bytes &+= UInt64(packet.count)
        if ts > now {
            now = ts
            expire()
        }
        // A local, not a stored scratch value: handing a stored value to a mutating method
        // copies it first.
        var scratch = DecodedPacket()
        let outcome = PacketDecoder.decode(packet, link: link, intoFresh: &scratch)
        switch outcome {
        case .ok:
            handle(scratch, packet, at: ts)
        case .fragment:
            stats.fragments &+= 1
            stats.decoded &+= 1
            let before = fragments.evicted
            if let (header, data) = fragments.add(scratch, bytes: packet, at: ts) {
                stats.reassembled &+= 1
                var p = header
                data.withUnsafeBytes { buf in
                    let r = PacketDecoder.decodeTransport(buf, at: 0, end: buf.count, into: &p)
                    if r == .ok { handle(p, buf, at: ts, counted: false) } else { stats.skippedFragmentsIncomplete &+= 1 }
                }
            }
            stats.fragmentsEvicted &+= fragments.evicted - before
        case .arp:
            stats.arp &+= 1
            stats.decoded &+= 1
        case .unknownLink: stats.skippedUnknownLink &+= 1
        case .nonIP: stats.skippedNonIP &+= 1
        case .truncated: stats.skippedTruncated &+= 1
        case .malformed: stats.skippedMalformed &+= 1
        }
    }

    mutating func advance(to t: Timestamp) {
        if t > now { now = t; expire() }
    }

    /// Ends the input: every open connection and pending record is written out.
    mutating func finish() {
        for i in table.liveIndices() { finalize(i) }
        shared.dhcp.flushAll(into: &analyzerOut)
        drainAnalyzerOutput()
    }

    // MARK: - Dispatch

    @inline(__always)
    private mutating func handle(_ p: DecodedPacket, _ buf: UnsafeRawBufferPointer, at ts: Timestamp, counted: Bool = true) {
        if counted { stats.decoded &+= 1 }
        if p.ipVersion == 4 { stats.ipv4 &+= 1 } else { stats.ipv6 &+= 1 }
        switch p.proto.rawValue {
        case 6: stats.tcp &+= 1; handleTCP(p, buf, at: ts)
        case 17: stats.udp &+= 1; handleUDP(p, buf, at: ts)
        case 1, 58: stats.icmp &+= 1; handleICMP(p, at: ts)
        default: stats.otherIP &+= 1; handleOther(p, at: ts)
        }
    }

    // MARK: - Flow lookup

    /// Finds or creates the flow for a packet. `senderIsOrig` decides direction for a new flow.
    @inline(__always)
    private mutating func lookup(_ p: DecodedPacket, sp: UInt16, dp: UInt16, at ts: Timestamp,
                        senderIsOrig: () -> Bool) -> (Int32, fromOrig: Bool, isNew: Bool) {
        let (key, srcIsA) = FlowKey.make(src: p.src, sp: sp, dst: p.dst, dp: dp, proto: p.proto.rawValue)
        if let i = table.find(key) {
            return (i, table[i].origIsA == srcIsA, false)
        }
        return create(key, srcIsA: srcIsA, sp: sp, dp: dp, at: ts, senderIsOrig: senderIsOrig())
    }

    private mutating func create(_ key: FlowKey, srcIsA: Bool, sp: UInt16, dp: UInt16, at ts: Timestamp,
                        senderIsOrig: Bool) -> (Int32, fromOrig: Bool, isNew: Bool) {
        if table.isFull, let victim = table.coldest() {
            finalize(victim)
            stats.flowsEvicted &+= 1
        }
        stats.flowsCreated &+= 1
        // 80 random bits: "C" and at most 14 base-62 digits, short enough to be stored inline
        // in a Swift string (no allocation per record), with collisions still out of reach.
        let uid = (rng.next() & 0xFFFF_FFFF_FFFF, UInt32(truncatingIfNeeded: rng.next()))
        let flow = Flow(key: key, origIsA: senderIsOrig ? srcIsA : !srcIsA,
                        origPort: senderIsOrig ? sp : dp, respPort: senderIsOrig ? dp : sp,
                        uid: uid, start: ts, last: ts)
        let i = table.insert(flow)
        return (i, senderIsOrig, true)
    }

    @inline(__always)
    private mutating func addHistory(_ i: Int32, _ letter: UInt8, fromOrig: Bool) {
        let bit = UInt32(1) << UInt32(letter &- 97)
        if fromOrig {
            if table[i].orig.historySeen & bit != 0 { return }
            table[i].orig.historySeen |= bit
            table[i].history.append(letter &- 32)
        } else {
            if table[i].resp.historySeen & bit != 0 { return }
            table[i].resp.historySeen |= bit
            table[i].history.append(letter)
        }
    }

    /// Letters Zeek records logarithmically (1st, 10th, 100th … occurrence).
    @inline(__always)
    private mutating func addCountedHistory(_ i: Int32, _ letter: UInt8, fromOrig: Bool, count: UInt32) {
        if count == 1 || count == 10 || count == 100 || count == 1000 || count == 10000 || count == 100_000 {
            table[i].history.append(fromOrig ? letter &- 32 : letter)
        }
    }

    // MARK: - TCP

    private mutating func handleTCP(_ p: DecodedPacket, _ buf: UnsafeRawBufferPointer, at ts: Timestamp) {
        let flags = p.tcpFlags
        let syn = flags & TCPFlag.syn != 0, ack = flags & TCPFlag.ack != 0
        let fin = flags & TCPFlag.fin != 0, rst = flags & TCPFlag.rst != 0
        var (i, fromOrig, isNew) = lookup(p, sp: p.srcPort, dp: p.dstPort, at: ts) {
            if syn { return !ack }
            return !Self.likelyServer(p.srcPort, p.dstPort)
        }
        if !isNew && syn && !ack {
            // A fresh SYN on a finished connection starts a new one (port reuse).
            let f = table[i]
            let done = f.orig.state == .reset || f.resp.state == .reset
                || (f.orig.state == .closed && (f.resp.state == .closed || f.resp.state == .inactive))
            if done {
                let key = f.key
                finalize(i)
                let srcIsA = key.a == p.src && (key.ports >> 16) == UInt32(p.srcPort)
                (i, fromOrig, isNew) = create(key, srcIsA: srcIsA, sp: p.srcPort, dp: p.dstPort, at: ts, senderIsOrig: true)
            }
        }
        if isNew && syn && ack { table[i].flipped = true; table[i].history.append(UInt8(ascii: "^")) }
        table[i].last = ts
        let payload = p.payloadLength
        // Counters and sequence space, in one access to this side.
        var deliverFrom = -1, deliverLen = 0, gap = false, retrans = false
        var retransmits: UInt32 = 0, gaps: UInt32 = 0
        withSide(i, fromOrig) { s in
            s.packets &+= 1
            s.ipBytes &+= UInt64(p.ipLength)
            if s.mac == 0 && p.hasMAC { s.mac = p.srcMAC }
            defer { retransmits = s.retransmits; gaps = s.gaps }
            if syn {
                if !s.sawSyn {
                    s.sawSyn = true; s.seqInit = true; s.seqBase = p.seq &+ 1
                    s.lastRel = 0; s.highEnd = 0; s.delivered = 0
                }
            } else if !s.seqInit {
                s.seqInit = true; s.seqBase = p.seq
                s.lastRel = 0; s.highEnd = 0; s.delivered = 0
            }
            guard payload > 0 else { return }
            let rel = s.unwrap(syn ? p.seq &+ 1 : p.seq)
            let end = rel + Int64(payload)
            if rel > s.lastRel { s.lastRel = rel }
            if end > s.highEnd { s.highEnd = end }
            if end <= s.delivered {
                retrans = true
                s.retransmits &+= 1
                return
            }
            if rel > s.delivered {
                gap = true
                s.gaps &+= 1
                s.missed &+= UInt64(rel - s.delivered)
                deliverFrom = 0
                deliverLen = payload
            } else {
                let skip = Int(s.delivered - rel)
                if skip > 0 { retrans = true; s.retransmits &+= 1 }
                deliverFrom = skip
                deliverLen = payload - skip
            }
            s.delivered = end
        }
        // History.
        if syn { addHistory(i, ack ? 104 : 115, fromOrig: fromOrig) }      // h / s
        if fin { addHistory(i, 102, fromOrig: fromOrig) }                  // f
        if rst { addHistory(i, 114, fromOrig: fromOrig) }                  // r
        if payload > 0 { addHistory(i, 100, fromOrig: fromOrig) }          // d
        else if ack && !syn && !fin && !rst { addHistory(i, 97, fromOrig: fromOrig) } // a
        if retrans { addCountedHistory(i, 116, fromOrig: fromOrig, count: retransmits) }
        if gap { addCountedHistory(i, 103, fromOrig: fromOrig, count: gaps) }
        if p.window == 0 && !syn && !rst && !fin {
            let n = withSide(i, fromOrig) { s -> UInt32 in s.zeroWindows &+= 1; return s.zeroWindows }
            addCountedHistory(i, 119, fromOrig: fromOrig, count: n)
        }
        // Endpoint states, after Zeek's TCP analyzer.
        updateStates(i, fromOrig: fromOrig, syn: syn, ack: ack, fin: fin, rst: rst)
        // Application bytes.
        if deliverLen > 0 {
            if gap, let a = table.analyzers[Int(i)] { a.gap(fromOrig: fromOrig) }
            let data = buf.slice(p.payloadOffset + deliverFrom, deliverLen)
            deliver(i, data, fromOrig: fromOrig, at: ts)
        }
        let os = table[i].orig.state, rs = table[i].resp.state
        let list: TimeoutClass
        if os == .reset || rs == .reset || (os == .closed && rs == .closed) || (os == .synSent && rs == .inactive) {
            list = .short
        } else {
            list = .tcp
        }
        table.touch(i, list: list)
    }

    @inline(__always)
    private mutating func updateStates(_ i: Int32, fromOrig: Bool, syn: Bool, ack: Bool, fin: Bool, rst: Bool) {
        var s = fromOrig ? table[i].orig.state : table[i].resp.state
        var peer = fromOrig ? table[i].resp.state : table[i].orig.state
        if rst {
            s = .reset
        } else {
            if syn {
                if s == .inactive { s = ack ? .synAckSent : .synSent }
                else if s == .synSent && ack { s = .synAckSent }
            } else if s == .inactive {
                s = .partial
            }
            if ack && !syn {
                if (s == .synSent || s == .synAckSent) { s = .established }
                if peer == .synAckSent && (s == .established || s == .partial) { peer = .established }
            }
            if fin && s != .reset { s = .closed }
        }
        if fromOrig { table[i].orig.state = s; table[i].resp.state = peer }
        else { table[i].resp.state = s; table[i].orig.state = peer }
    }

    // MARK: - UDP, ICMP, other

    private mutating func handleUDP(_ p: DecodedPacket, _ buf: UnsafeRawBufferPointer, at ts: Timestamp) {
        let (i, fromOrig, _) = lookup(p, sp: p.srcPort, dp: p.dstPort, at: ts) {
            !Self.likelyServer(p.srcPort, p.dstPort)
        }
        countDatagram(i, fromOrig: fromOrig, p, payload: p.payloadLength, at: ts)
        if p.payloadLength > 0 {
            addHistory(i, 100, fromOrig: fromOrig)
            deliver(i, buf.slice(p.payloadOffset, p.payloadLength), fromOrig: fromOrig, at: ts)
        }
        table.touch(i, list: .datagram)
    }

    private mutating func handleICMP(_ p: DecodedPacket, at ts: Timestamp) {
        let type = UInt16(p.icmpType)
        let counterpart = Self.icmpCounterpart(type: p.icmpType, code: p.icmpCode, v6: p.proto == .icmp6)
        let (i, fromOrig, _) = lookup(p, sp: type, dp: counterpart, at: ts) { true }
        // Zeek counts ICMP bytes after the 8-byte header (4 of which the decoder already took).
        countDatagram(i, fromOrig: fromOrig, p, payload: max(0, p.payloadLength - 4), at: ts)
        table.touch(i, list: .datagram)
    }

    private mutating func handleOther(_ p: DecodedPacket, at ts: Timestamp) {
        let (i, fromOrig, _) = lookup(p, sp: 0, dp: 0, at: ts) { true }
        countDatagram(i, fromOrig: fromOrig, p, payload: p.payloadLength, at: ts)
        table.touch(i, list: .datagram)
    }

    /// Counts one packet of a connectionless flow (UDP, ICMP, other IP protocols).
    @inline(__always)
    private mutating func countDatagram(_ i: Int32, fromOrig: Bool, _ p: DecodedPacket, payload: Int, at ts: Timestamp) {
        table[i].last = ts
        withSide(i, fromOrig) { s in
            s.packets &+= 1
            s.ipBytes &+= UInt64(p.ipLength)
            s.payloadBytes &+= UInt64(payload)
            s.state = .established
            if s.mac == 0 && p.hasMAC { s.mac = p.srcMAC }
        }
    }

    /// Zeek's ICMP "counterpart": request and reply types pair up into one connection;
    /// one-way messages key on their code.
    static func icmpCounterpart(type: UInt8, code: UInt8, v6: Bool) -> UInt16 {
        if v6 {
            switch type {
            case 128: return 129
            case 129: return 128
            case 133: return 134
            case 134: return 133
            case 135: return 136
            case 136: return 135
            case 130: return 131
            case 131: return 130
            case 139: return 140
            case 140: return 139
            case 144: return 145
            case 145: return 144
            default: return UInt16(code)
            }
        }
        switch type {
        case 8: return 0
        case 0: return 8
        case 13: return 14
        case 14: return 13
        case 15: return 16
        case 16: return 15
        case 17: return 18
        case 18: return 17
        case 10: return 9
        case 9: return 10
        default: return UInt16(code)
        }
    }

    /// Whether a mid-stream packet's source port looks like the server side.
    @inline(__always)
    static func likelyServer(_ sp: UInt16, _ dp: UInt16) -> Bool {
        func server(_ p: UInt16) -> Bool {
            p < 1024 || p == 1433 || p == 1521 || p == 3306 || p == 3389 || p == 5353 || p == 5355
                || p == 5432 || p == 5900 || p == 5985 || p == 5986 || p == 6379 || p == 8080 || p == 8443
                || p == 9200 || p == 27017
        }
        return server(sp) && !server(dp)
    }

    @inline(__always)
    private mutating func withSide<R>(_ i: Int32, _ orig: Bool, _ body: (inout FlowSide) -> R) -> R {
        orig ? body(&table[i].orig) : body(&table[i].resp)
    }


    // MARK: - Applications

    /// Stream bytes held back while a connection's first payload is too short to recognise
    /// (a client sending one byte per segment). Only undecided TCP directions have an entry.
    private var undecided: [UndecidedKey: [UInt8]] = [:]
    struct UndecidedKey: Hashable { var flow: Int32; var fromOrig: Bool }
    static let detectWindow = 64
    static let maxUndecided = 4096

    private mutating func deliver(_ i: Int32, _ data: UnsafeRawBufferPointer, fromOrig: Bool, at ts: Timestamp) {
        let state = table[i].appState
        if state == 2 { return }
        let limit = configuration.maxAnalyzedBytesPerDirection
        let within = withSide(i, fromOrig) { s -> Bool in
            guard s.analyzedBytes < limit else { return false }
            s.analyzedBytes &+= data.count
            return true
        }
        if !within { return }
        if state == 0 {
            let key = UndecidedKey(flow: i, fromOrig: fromOrig)
            if let held = undecided[key] {
                undecided[key] = nil
                let combined = held + data
                combined.withUnsafeBytes { attach(i, $0, fromOrig: fromOrig, at: ts, key: key) }
            } else {
                attach(i, data, fromOrig: fromOrig, at: ts, key: key)
            }
            return
        }
        feedAnalyzer(i, data, fromOrig: fromOrig, at: ts)
    }

    /// Tries every registered analyzer on a direction's first bytes.
    private mutating func attach(_ i: Int32, _ data: UnsafeRawBufferPointer, fromOrig: Bool, at ts: Timestamp, key: UndecidedKey) {
        let proto = IPProtocol(rawValue: table[i].key.proto)
        let origPort = table[i].origPort, respPort = table[i].respPort
        for (k, r) in AnalyzerRegistry.all.enumerated() where r.proto == proto {
            if r.detect(data, fromOrig, origPort, respPort) {
                table.analyzers[Int(i)] = r.make()
                table[i].appState = 1
                table[i].services |= AnalyzerRegistry.serviceBits[k]
                undecided[UndecidedKey(flow: i, fromOrig: !fromOrig)] = nil
                feedAnalyzer(i, data, fromOrig: fromOrig, at: ts)
                return
            }
        }
        if proto == .tcp && data.count < Self.detectWindow && undecided.count < Self.maxUndecided {
            undecided[key] = Array(data)   // too short to tell yet; wait for more
            return
        }
        table[i].appTries &+= 1
        if table[i].appTries >= 4 { table[i].appState = 2 }
    }

    private mutating func feedAnalyzer(_ i: Int32, _ data: UnsafeRawBufferPointer, fromOrig: Bool, at ts: Timestamp) {
        guard let a = table.analyzers[Int(i)], !a.isDone else { return }
        let info = FlowInfo(uidBits: table[i].uid, id: table[i].id)
        a.feed(data, fromOrig: fromOrig, at: ts, flow: info, into: &analyzerOut)
        drainAnalyzerOutput()
    }

    @inline(__always)
    private mutating func drainAnalyzerOutput() {
        if !analyzerOut.observations.isEmpty {
            // Counted in place and moved, not copied: a copy retains every string of a record.
            for k in analyzerOut.observations.indices {
                switch analyzerOut.observations[k] {
                case .conn: stats.connRecords &+= 1
                case .dns: stats.dnsRecords &+= 1
                case .http: stats.httpRecords &+= 1
                case .tls: stats.tlsRecords &+= 1
                case .ssh: stats.sshRecords &+= 1
                case .dhcp: stats.dhcpRecords &+= 1
                }
            }
            if output.isEmpty {
                swap(&output, &analyzerOut.observations)
            } else {
                output.append(contentsOf: analyzerOut.observations)
                analyzerOut.observations.removeAll(keepingCapacity: true)
            }
        }
        if analyzerOut.parseErrors > 0 {
            stats.appParseErrors &+= analyzerOut.parseErrors
            analyzerOut.parseErrors = 0
        }
    }

    // MARK: - Expiry and records

    private mutating func expire() {
        expireList(.short, configuration.closeDelay)
        expireList(.datagram, configuration.udpInactivity)
        expireList(.tcp, configuration.tcpInactivity)
        // DHCP transactions are few; look at them once a second of packet time.
        if now >= nextHousekeeping {
            nextHousekeeping = now + .seconds(1)
            shared.dhcp.expire(now: now, into: &analyzerOut)
            drainAnalyzerOutput()
        }
    }

    @inline(__always)
    private mutating func expireList(_ list: TimeoutClass, _ timeout: Duration) {
        var h = table.head(list)
        while h >= 0 {
            let limit = list == .datagram && table[h].key.proto != 17 ? configuration.icmpInactivity : timeout
            guard now - table[h].last > limit else { return }
            finalize(h)
            h = table.head(list)
        }
    }

    private mutating func finalize(_ i: Int32) {
        let f = table[i]
        if let a = table.analyzers[Int(i)] {
            a.finish(at: f.last, flow: FlowInfo(uidBits: f.uid, id: f.id), into: &analyzerOut)
            drainAnalyzerOutput()
        }
        if !undecided.isEmpty {
            undecided[UndecidedKey(flow: i, fromOrig: true)] = nil
            undecided[UndecidedKey(flow: i, fromOrig: false)] = nil
        }
        let record = connRecord(f)
        stats.connRecords &+= 1
        output.append(.conn(record))
        table.remove(i)
    }

    func connRecord(_ f: Flow) -> ConnRecord {
        let proto = IPProtocol(rawValue: f.key.proto)
        let duration = f.last - f.start
        let services = AnalyzerRegistry.serviceLists[Int(f.services)]
        let isTCP = proto == .tcp
        let origBytes = isTCP ? UInt64(max(0, f.orig.highEnd)) : f.orig.payloadBytes
        let respBytes = isTCP ? UInt64(max(0, f.resp.highEnd)) : f.resp.payloadBytes
        let hasDuration = duration.nanoseconds > 0
        let local = configuration.localNetworks
        return ConnRecord(
            ts: f.start, uid: ZeekUID.format(f.uid), id: f.id, service: services,
            duration: hasDuration ? duration : nil,
            origBytes: hasDuration ? origBytes : nil, respBytes: hasDuration ? respBytes : nil,
            connState: Self.connState(f),
            localOrig: local.isEmpty ? nil : local.contains { $0.contains(f.origHost) },
            localResp: local.isEmpty ? nil : local.contains { $0.contains(f.respHost) },
            missedBytes: f.orig.missed + f.resp.missed,
            history: f.history.count == 0 ? nil : f.history.string,
            origPackets: f.orig.packets, origIPBytes: f.orig.ipBytes,
            respPackets: f.resp.packets, respIPBytes: f.resp.ipBytes,
            origMAC: f.orig.mac == 0 ? nil : MACAddress(f.orig.mac),
            respMAC: f.resp.mac == 0 ? nil : MACAddress(f.resp.mac))
    }

    /// Zeek's `conn_state`, from both endpoints' final states.
    static func connState(_ f: Flow) -> String {
        let proto = f.key.proto
        let os = f.orig.state, rs = f.resp.state
        if proto == 6 {
            let oInactive = os == .inactive || os == .partial
            let rInactive = rs == .inactive || rs == .partial
            if rs == .reset {
                if os == .synSent || os == .synAckSent || (os == .reset && f.orig.highEnd <= 0 && f.resp.highEnd <= 0) {
                    return "REJ"
                }
                return oInactive ? "RSTRH" : "RSTR"
            }
            if os == .reset {
                if rInactive {
                    let h = f.history.string
                    if h.hasPrefix("S") || h.hasPrefix("^S"), !h.contains(where: { "HAFGIQ".contains($0) }) {
                        return "RSTOS0"
                    }
                    return "OTH"
                }
                return "RSTO"
            }
            if rs == .closed && os == .closed { return "SF" }
            if os == .closed { return rInactive ? "SH" : "S2" }
            if rs == .closed { return oInactive ? "SHR" : "S3" }
            if os == .synSent && rs == .inactive { return "S0" }
            if os == .established && rs == .established { return "S1" }
            return "OTH"
        }
        if proto == 17 {
            let oActive = os != .inactive, rActive = rs != .inactive
            if oActive { return rActive ? "SF" : "S0" }
            return rActive ? "SHR" : "OTH"
        }
        return "OTH"
    }
}
