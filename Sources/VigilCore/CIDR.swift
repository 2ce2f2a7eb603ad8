/// An address block such as `10.0.0.0/8` or `fd00::/8`.
public struct CIDR: Hashable, Sendable, Codable, CustomStringConvertible {
    public var base: IPAddress
    /// Prefix length over the 128-bit form (IPv4 blocks are stored as /96 + n).
    public var bits: Int

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let first = parts.first, let addr = IPAddress(first) else { return nil }
        let maxBits = addr.isV4 ? 32 : 128
        var n = maxBits
        if parts.count == 2 {
            guard let v = Int(parts[1]), v >= 0, v <= maxBits else { return nil }
            n = v
        }
        bits = addr.isV4 ? 96 + n : n
        base = CIDR.mask(addr, bits)
    }

    @usableFromInline static func mask(_ a: IPAddress, _ bits: Int) -> IPAddress {
        let hiMask: UInt64 = bits >= 64 ? ~0 : (bits == 0 ? 0 : ~0 << UInt64(64 - bits))
        let loMask: UInt64 = bits <= 64 ? 0 : (bits >= 128 ? ~0 : ~0 << UInt64(128 - bits))
        return IPAddress(high: a.high & hiMask, low: a.low & loMask)
    }

    @inlinable public func contains(_ a: IPAddress) -> Bool { CIDR.mask(a, bits) == base }

    public var description: String {
        base.isV4 && bits >= 96 ? "\(base)/\(bits - 96)" : "\(base)/\(bits)"
    }

    /// RFC 1918, CGNAT, loopback, link-local and ULA blocks: the default "local" site.
    public static let privateBlocks: [CIDR] = [
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
        "169.254.0.0/16", "fc00::/7", "fe80::/10", "::1/128",
    ].compactMap { CIDR($0) }
}
