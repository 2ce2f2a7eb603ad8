/// A 48-bit Ethernet address, held as a number and printed as Zeek prints it
/// (`02:aa:00:00:00:01`). A value, so records carry it without allocating.
public struct MACAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: UInt64

    @inlinable public init(_ value: UInt64) { self.value = value & 0xFFFF_FFFF_FFFF }

    /// Parses six hex octets separated by ':' or '-'; nil if malformed.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(whereSeparator: { $0 == ":" || $0 == "-" })
        guard parts.count == 6 else { return nil }
        var v: UInt64 = 0
        for p in parts {
            guard p.count <= 2, let o = UInt8(p, radix: 16) else { return nil }
            v = v << 8 | UInt64(o)
        }
        value = v
    }

    public static func < (a: MACAddress, b: MACAddress) -> Bool { a.value < b.value }

    /// Writes the 17 characters into `out` (at least 17 bytes); returns 17.
    @discardableResult
    public func writeText(into out: UnsafeMutableRawBufferPointer) -> Int {
        let hex: StaticString = "0123456789abcdef"
        var k = 0
        for byte in 0..<6 {
            let b = Int(truncatingIfNeeded: value >> UInt64(40 - 8 * byte)) & 0xFF
            if byte > 0 { out[k] = 58; k += 1 }
            out[k] = hex.utf8Start[b >> 4]; out[k + 1] = hex.utf8Start[b & 15]
            k += 2
        }
        return k
    }

    public var description: String {
        String(unsafeUninitializedCapacity: 17) { writeText(into: UnsafeMutableRawBufferPointer($0)) }
    }
}

extension MACAddress: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let m = MACAddress(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a MAC address: \(s)")
        }
        self = m
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
