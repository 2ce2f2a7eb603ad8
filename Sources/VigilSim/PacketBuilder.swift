import VigilCore

/// Builds well-formed Ethernet / 802.1Q / IPv4 / IPv6 / TCP / UDP / ICMP frames with correct
/// lengths and checksums, into a reused buffer.
public struct PacketBuilder {
    public var bytes: [UInt8] = []

    public init() { bytes.reserveCapacity(2048) }

    public struct Endpoint: Hashable, Sendable {
        public var mac: UInt64
        public var ip: IPAddress
        public var port: UInt16
        public init(mac: UInt64, ip: IPAddress, port: UInt16) { self.mac = mac; self.ip = ip; self.port = port }
    }

    @inline(__always) mutating func put16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(v & 0xFF)) }
    @inline(__always) mutating func put32(_ v: UInt32) { put16(UInt16(v >> 16)); put16(UInt16(v & 0xFFFF)) }
    @inline(__always) mutating func set16(_ at: Int, _ v: UInt16) { bytes[at] = UInt8(v >> 8); bytes[at + 1] = UInt8(v & 0xFF) }

    mutating func ethernet(src: UInt64, dst: UInt64, vlan: UInt16?, type: UInt16) {
        for k in 0..<6 { bytes.append(UInt8(truncatingIfNeeded: dst >> UInt64(40 - 8 * k))) }
        for k in 0..<6 { bytes.append(UInt8(truncatingIfNeeded: src >> UInt64(40 - 8 * k))) }
        if let vlan { put16(0x8100); put16(vlan & 0x0FFF) }
        put16(type)
    }

    /// Internet checksum over `bytes[range]` plus a starting sum.
    func checksum(_ range: Range<Int>, initial: UInt32 = 0) -> UInt16 {
        var sum = initial
        var i = range.lowerBound
        while i + 1 < range.upperBound { sum &+= UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1]); i += 2 }
        if i < range.upperBound { sum &+= UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) &+ (sum >> 16) }
        return ~UInt16(sum)
    }

    static func pseudoSum(_ src: IPAddress, _ dst: IPAddress, proto: UInt8, length: Int) -> UInt32 {
        var s: UInt32 = 0
        func add64(_ v: UInt64) { s &+= UInt32(v >> 48) &+ UInt32(v >> 32 & 0xFFFF) &+ UInt32(v >> 16 & 0xFFFF) &+ UInt32(v & 0xFFFF) }
        if src.isV4 {
            s &+= src.v4 >> 16 &+ (src.v4 & 0xFFFF) &+ dst.v4 >> 16 &+ (dst.v4 & 0xFFFF)
        } else {
            add64(src.high); add64(src.low); add64(dst.high); add64(dst.low)
        }
        s &+= UInt32(proto) &+ UInt32(length)
        return s
    }

    /// Starts a frame: link + IP header for `l4Length` bytes of transport. Returns the offset
    /// where the transport header begins.
    mutating func ip(src: Endpoint, dst: Endpoint, proto: UInt8, l4Length: Int, vlan: UInt16?, ttl: UInt8 = 64, ident: UInt16 = 0,
                     fragment: (offset: Int, more: Bool)? = nil) -> Int {
        bytes.removeAll(keepingCapacity: true)
        if src.ip.isV4 {
            ethernet(src: src.mac, dst: dst.mac, vlan: vlan, type: 0x0800)
            let start = bytes.count
            bytes.append(0x45); bytes.append(0)
            put16(UInt16(20 + l4Length)); put16(ident)
            let fo: UInt16 = fragment.map { UInt16($0.offset / 8) | ($0.more ? 0x2000 : 0) } ?? 0x4000
            put16(fo)
            bytes.append(ttl); bytes.append(proto); put16(0)
            put32(src.ip.v4); put32(dst.ip.v4)
            set16(start + 10, checksum(start..<(start + 20)))
        } else {
            ethernet(src: src.mac, dst: dst.mac, vlan: vlan, type: 0x86DD)
            put32(0x6000_0000); put16(UInt16(l4Length)); bytes.append(proto); bytes.append(ttl)
            for v in [src.ip.high, src.ip.low, dst.ip.high, dst.ip.low] { put32(UInt32(v >> 32)); put32(UInt32(v & 0xFFFF_FFFF)) }
        }
        return bytes.count
    }

    public mutating func tcp(_ src: Endpoint, _ dst: Endpoint, seq: UInt32, ack: UInt32, flags: UInt8,
                             window: UInt16 = 64240, payload: UnsafeRawBufferPointer, vlan: UInt16? = nil, options: [UInt8] = []) {
        let hl = 20 + options.count
        let l4 = ip(src: src, dst: dst, proto: 6, l4Length: hl + payload.count, vlan: vlan)
        put16(src.port); put16(dst.port); put32(seq); put32(ack)
        bytes.append(UInt8(hl / 4) << 4); bytes.append(flags); put16(window); put16(0); put16(0)
        bytes.append(contentsOf: options)
        bytes.append(contentsOf: payload)
        let sum = Self.pseudoSum(src.ip, dst.ip, proto: 6, length: hl + payload.count)
        set16(l4 + 16, checksum(l4..<bytes.count, initial: sum))
    }

    public mutating func udp(_ src: Endpoint, _ dst: Endpoint, payload: UnsafeRawBufferPointer, vlan: UInt16? = nil) {
        let l4 = ip(src: src, dst: dst, proto: 17, l4Length: 8 + payload.count, vlan: vlan)
        put16(src.port); put16(dst.port); put16(UInt16(8 + payload.count)); put16(0)
        bytes.append(contentsOf: payload)
        let sum = Self.pseudoSum(src.ip, dst.ip, proto: 17, length: 8 + payload.count)
        var c = checksum(l4..<bytes.count, initial: sum)
        if c == 0 { c = 0xFFFF }
        set16(l4 + 6, c)
    }

    public mutating func udp(_ src: Endpoint, _ dst: Endpoint, payloadArray: [UInt8], vlan: UInt16? = nil) {
        payloadArray.withUnsafeBytes { udp(src, dst, payload: $0, vlan: vlan) }
    }

    public mutating func icmpEcho(_ src: Endpoint, _ dst: Endpoint, reply: Bool, id: UInt16, seq: UInt16, payload: Int, vlan: UInt16? = nil) {
        let v6 = !src.ip.isV4
        let l4 = ip(src: src, dst: dst, proto: v6 ? 58 : 1, l4Length: 8 + payload, vlan: vlan)
        bytes.append(v6 ? (reply ? 129 : 128) : (reply ? 0 : 8)); bytes.append(0); put16(0); put16(id); put16(seq)
        for k in 0..<payload { bytes.append(UInt8(truncatingIfNeeded: k)) }
        let sum = v6 ? Self.pseudoSum(src.ip, dst.ip, proto: 58, length: 8 + payload) : 0
        set16(l4 + 2, checksum(l4..<bytes.count, initial: sum))
    }

    /// An IPv4 fragment of a UDP datagram whose whole transport bytes are `datagram`.
    public mutating func ipv4Fragment(_ src: Endpoint, _ dst: Endpoint, ident: UInt16, datagram: [UInt8], offset: Int, length: Int, more: Bool) {
        _ = ip(src: src, dst: dst, proto: 17, l4Length: length, vlan: nil, ident: ident, fragment: (offset, more))
        bytes.append(contentsOf: datagram[offset..<(offset + length)])
    }

    /// Builds the transport bytes (UDP header + payload) of a datagram, for fragmenting.
    public static func udpDatagram(_ src: Endpoint, _ dst: Endpoint, payload: [UInt8]) -> [UInt8] {
        var b = PacketBuilder()
        b.bytes = []
        b.put16(src.port); b.put16(dst.port); b.put16(UInt16(8 + payload.count)); b.put16(0)
        b.bytes.append(contentsOf: payload)
        let sum = pseudoSum(src.ip, dst.ip, proto: 17, length: 8 + payload.count)
        b.set16(6, b.checksum(0..<b.bytes.count, initial: sum))
        return b.bytes
    }
}
