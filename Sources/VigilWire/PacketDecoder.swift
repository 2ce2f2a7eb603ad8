import VigilCore

/// One packet decoded down to the transport header, as offsets into the caller's buffer.
/// A plain value: decoding a packet allocates nothing.
public struct DecodedPacket: Sendable {
    public var srcMAC: UInt64 = 0
    public var dstMAC: UInt64 = 0
    public var hasMAC = false
    public var vlan: UInt16 = 0
    public var ipVersion: UInt8 = 0
    public var src = IPAddress.unspecified
    public var dst = IPAddress.unspecified
    public var proto = IPProtocol(rawValue: 0)
    /// IP total length (header + payload) as the packet claims it, the unit of Zeek's *_ip_bytes.
    public var ipLength = 0
    public var ipOffset = 0
    public var l4Offset = 0
    public var srcPort: UInt16 = 0
    public var dstPort: UInt16 = 0
    public var tcpFlags: UInt8 = 0
    public var seq: UInt32 = 0
    public var ack: UInt32 = 0
    public var window: UInt16 = 0
    public var icmpType: UInt8 = 0
    public var icmpCode: UInt8 = 0
    public var payloadOffset = 0
    public var payloadLength = 0
    /// Fragment bookkeeping (IPv4 and IPv6); set when `isFragment`.
    public var isFragment = false
    public var fragmentID: UInt32 = 0
    public var fragmentOffset = 0
    public var moreFragments = false
    public var isARP = false

    public init() {}
}

public enum DecodeOutcome: Sendable, Equatable {
    case ok, fragment, arp, unknownLink, nonIP, truncated, malformed
}

enum TCPFlag {
    static let fin: UInt8 = 0x01, syn: UInt8 = 0x02, rst: UInt8 = 0x04, psh: UInt8 = 0x08
    static let ack: UInt8 = 0x10, urg: UInt8 = 0x20
}

/// Sans-I/O packet decoding: link layer (Ethernet, 802.1Q/QinQ, Linux SLL/SLL2, raw IP, BSD
/// loopback), IPv4 with fragments, IPv6 with extension headers, TCP, UDP, ICMP/ICMPv6, ARP.
public enum PacketDecoder {
    /// Decodes `buffer` captured on `link` into `out`, whatever `out` held before.
    @inlinable
    public static func decode(_ buffer: UnsafeRawBufferPointer, link: LinkType, into out: inout DecodedPacket) -> DecodeOutcome {
        out = DecodedPacket()
        return decode(buffer, link: link, intoFresh: &out)
    }

    /// Decodes into `out`, which must be a fresh `DecodedPacket()`: the engine makes one per
    /// packet, so it is not cleared a second time here.
    @inlinable
    public static func decode(_ buffer: UnsafeRawBufferPointer, link: LinkType, intoFresh out: inout DecodedPacket) -> DecodeOutcome {
        var offset = 0
        var etherType: UInt16 = 0
        switch link.rawValue {
        case 1:
            guard buffer.count >= 14, let dhi = buffer.u32(0), let dlo = buffer.u16(4),
                  let shi = buffer.u32(6), let slo = buffer.u16(10), let et = buffer.u16(12) else { return .truncated }
            out.dstMAC = UInt64(dhi) << 16 | UInt64(dlo)
            out.srcMAC = UInt64(shi) << 16 | UInt64(slo)
            out.hasMAC = true
            etherType = et
            offset = 14
        case 113:
            // Linux cooked v1: packet type(2) arphrd(2) addr len(2) addr(8) protocol(2)
            guard let et = buffer.u16(14) else { return .truncated }
            if let hw = buffer.u16(2), hw == 1, let alen = buffer.u16(4), alen == 6,
               let hi = buffer.u32(6), let lo = buffer.u16(10) {
                out.srcMAC = UInt64(hi) << 16 | UInt64(lo)
                out.hasMAC = true
            }
            etherType = et
            offset = 16
        case 276:
            // Linux cooked v2: protocol(2) reserved(2) ifindex(4) arphrd(2) pkttype(1) alen(1) addr(8)
            guard let et = buffer.u16(0), buffer.count >= 20 else { return .truncated }
            if let hw = buffer.u16(8), hw == 1, let alen = buffer.u8(11), alen == 6,
               let hi = buffer.u32(12), let lo = buffer.u16(16) {
                out.srcMAC = UInt64(hi) << 16 | UInt64(lo)
                out.hasMAC = true
            }
            etherType = et
            offset = 20
        case 12, 14, 101, 228, 229:
            guard let v = buffer.u8(0) else { return .truncated }
            etherType = v >> 4 == 6 ? 0x86DD : 0x0800
        case 0, 108:
            guard buffer.count >= 4 else { return .truncated }
            // The family is host order (NULL) or network order (LOOP); try both.
            let b0 = buffer[0], b3 = buffer[3]
            let family = link.rawValue == 108 ? UInt32(b3) : (b0 != 0 ? UInt32(b0) : UInt32(b3))
            switch family {
            case 2: etherType = 0x0800
            case 10, 24, 28, 30: etherType = 0x86DD
            default: return .nonIP
            }
            offset = 4
        default:
            return .unknownLink
        }
        // VLAN tags: 802.1Q (0x8100), QinQ (0x88A8, 0x9100), any depth up to 4.
        var tags = 0
        while etherType == 0x8100 || etherType == 0x88A8 || etherType == 0x9100 {
            guard tags < 4, let tci = buffer.u16(offset), let et = buffer.u16(offset + 2) else { return .truncated }
            if tags == 0 { out.vlan = tci & 0x0FFF }
            etherType = et
            offset += 4
            tags += 1
        }
        switch etherType {
        case 0x0800: return decodeIPv4(buffer, at: offset, into: &out)
        case 0x86DD: return decodeIPv6(buffer, at: offset, into: &out)
        case 0x0806:
            out.isARP = true
            return buffer.count >= offset + 28 ? .arp : .truncated
        default: return .nonIP
        }
    }

    @inlinable
    static func decodeIPv4(_ b: UnsafeRawBufferPointer, at o: Int, into out: inout DecodedPacket) -> DecodeOutcome {
        guard let vihl = b.u8(o) else { return .truncated }
        guard vihl >> 4 == 4 else { return .malformed }
        let ihl = Int(vihl & 0x0F) * 4
        guard ihl >= 20 else { return .malformed }
        guard b.count >= o + ihl, let total = b.u16(o + 2), let ident = b.u16(o + 4),
              let frag = b.u16(o + 6), let proto = b.u8(o + 9),
              let s = b.u32(o + 12), let d = b.u32(o + 16) else { return .truncated }
        var ipLen = Int(total)
        // TSO captures carry total length 0; trust what was captured then.
        if ipLen == 0 { ipLen = b.count - o }
        guard ipLen >= ihl else { return .malformed }
        out.ipVersion = 4
        out.src = IPAddress(v4: s)
        out.dst = IPAddress(v4: d)
        out.proto = IPProtocol(rawValue: proto)
        out.ipLength = ipLen
        out.ipOffset = o
        let fragOffset = Int(frag & 0x1FFF) * 8
        let more = frag & 0x2000 != 0
        let l4 = o + ihl
        // Ethernet padding past the IP datagram is not payload.
        let end = min(b.count, o + ipLen)
        if fragOffset != 0 || more {
            out.isFragment = true
            out.fragmentID = UInt32(ident)
            out.fragmentOffset = fragOffset
            out.moreFragments = more
            out.l4Offset = l4
            out.payloadOffset = l4
            out.payloadLength = max(0, end - l4)
            return .fragment
        }
        return decodeTransport(b, at: l4, end: end, into: &out)
    }

    @inlinable
    static func decodeIPv6(_ b: UnsafeRawBufferPointer, at o: Int, into out: inout DecodedPacket) -> DecodeOutcome {
        guard let v = b.u8(o) else { return .truncated }
        guard v >> 4 == 6 else { return .malformed }
        guard b.count >= o + 40, let plen = b.u16(o + 4), var next = b.u8(o + 6),
              let s0 = b.u64(o + 8), let s1 = b.u64(o + 16),
              let d0 = b.u64(o + 24), let d1 = b.u64(o + 32) else { return .truncated }
        out.ipVersion = 6
        out.src = IPAddress(high: s0, low: s1)
        out.dst = IPAddress(high: d0, low: d1)
        var ipLen = 40 + Int(plen)
        if plen == 0 { ipLen = b.count - o }  // jumbogram or TSO
        out.ipLength = ipLen
        out.ipOffset = o
        let end = min(b.count, o + ipLen)
        var h = o + 40
        // Walk extension headers: hop-by-hop, routing, fragment, destination options, AH, mobility.
        var hops = 0
        while true {
            hops += 1
            if hops > 16 { return .malformed }
            switch next {
            case 0, 43, 60, 135, 139, 140:
                guard let nx = b.u8(h), let len = b.u8(h + 1) else { return .truncated }
                next = nx
                h += (Int(len) + 1) * 8
            case 51:
                guard let nx = b.u8(h), let len = b.u8(h + 1) else { return .truncated }
                next = nx
                h += (Int(len) + 2) * 4
            case 44:
                guard let nx = b.u8(h), let fo = b.u16(h + 2), let ident = b.u32(h + 4) else { return .truncated }
                let fragOffset = Int(fo >> 3) * 8
                let more = fo & 1 != 0
                h += 8
                if fragOffset != 0 || more {
                    out.proto = IPProtocol(rawValue: nx)
                    out.isFragment = true
                    out.fragmentID = ident
                    out.fragmentOffset = fragOffset
                    out.moreFragments = more
                    out.l4Offset = h
                    out.payloadOffset = h
                    out.payloadLength = max(0, end - h)
                    return .fragment
                }
                next = nx  // atomic fragment
            case 59:
                out.proto = IPProtocol(rawValue: 59)
                out.l4Offset = h
                out.payloadOffset = h
                return .ok
            default:
                out.proto = IPProtocol(rawValue: next)
                guard h <= end else { return .truncated }
                return decodeTransport(b, at: h, end: end, into: &out)
            }
            if h > end { return .truncated }
        }
    }

    /// Decodes the transport header at `l4`; `end` is where the IP datagram ends in the buffer.
    @inlinable
    public static func decodeTransport(_ b: UnsafeRawBufferPointer, at l4: Int, end: Int, into out: inout DecodedPacket) -> DecodeOutcome {
        out.l4Offset = l4
        switch out.proto.rawValue {
        case 6:
            guard l4 + 20 <= end, let sp = b.u16(l4), let dp = b.u16(l4 + 2), let seq = b.u32(l4 + 4),
                  let ack = b.u32(l4 + 8), let off = b.u8(l4 + 12), let flags = b.u8(l4 + 13),
                  let win = b.u16(l4 + 14) else { return .truncated }
            let hl = Int(off >> 4) * 4
            guard hl >= 20 else { return .malformed }
            guard l4 + hl <= end else { return .truncated }
            out.srcPort = sp; out.dstPort = dp; out.seq = seq; out.ack = ack
            out.tcpFlags = flags; out.window = win
            out.payloadOffset = l4 + hl
            out.payloadLength = end - (l4 + hl)
        case 17:
            guard l4 + 8 <= end, let sp = b.u16(l4), let dp = b.u16(l4 + 2), let ulen = b.u16(l4 + 4) else { return .truncated }
            out.srcPort = sp; out.dstPort = dp
            out.payloadOffset = l4 + 8
            // Trust the UDP length when it fits; captures with TSO/GRO can claim less.
            let claimed = Int(ulen) - 8
            out.payloadLength = claimed >= 0 && claimed <= end - (l4 + 8) ? claimed : end - (l4 + 8)
        case 1, 58:
            guard l4 + 4 <= end, let t = b.u8(l4), let c = b.u8(l4 + 1) else { return .truncated }
            out.icmpType = t; out.icmpCode = c
            out.payloadOffset = l4 + 4
            out.payloadLength = end - (l4 + 4)
        default:
            out.payloadOffset = l4
            out.payloadLength = max(0, end - l4)
        }
        return .ok
    }
}
