/// An IPv4 or IPv6 address held in 128 bits; IPv4 is stored IPv4-mapped (`::ffff:a.b.c.d`).
/// Fixed size and trivially copyable, so the flow table can key on it without allocating.
public struct IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    @inlinable public init(high: UInt64, low: UInt64) { self.high = high; self.low = low }

    @inlinable public init(v4 value: UInt32) {
        high = 0
        low = 0x0000_FFFF_0000_0000 | UInt64(value)
    }

    public static let unspecified = IPAddress(high: 0, low: 0)

    @inlinable public var isV4: Bool { high == 0 && (low >> 32) == 0xFFFF }
    @inlinable public var v4: UInt32 { UInt32(truncatingIfNeeded: low) }

    @inlinable public static func < (a: IPAddress, b: IPAddress) -> Bool {
        a.high != b.high ? a.high < b.high : a.low < b.low
    }

    /// RFC 1918, loopback, link-local, CGNAT, ULA and IPv6 link-local: addresses that belong to
    /// the monitored site rather than the Internet.
    public var isPrivate: Bool {
        if isV4 {
            let a = v4
            return a >> 24 == 10 || a >> 20 == 0xAC1 || a >> 16 == 0xC0A8 || a >> 24 == 127
                || a >> 16 == 0xA9FE || a >> 22 == (100 << 2 | 1)
        }
        let top = high >> 48
        return (top & 0xFE00) == 0xFC00 || (top & 0xFFC0) == 0xFE80 || (high == 0 && low == 1)
    }

    public var isMulticastOrBroadcast: Bool {
        if isV4 { return v4 >> 28 == 0xE || v4 == 0xFFFF_FFFF }
        return high >> 56 == 0xFF
    }

    public var description: String {
        String(unsafeUninitializedCapacity: 45) { out in
            writeText(into: UnsafeMutableRawBufferPointer(out))
        }
    }

    /// Writes the address as text (RFC 5952 for IPv6) into `out` (at least 45 bytes) and
    /// returns the length. No allocation: log writers call this per record.
    public func writeText(into out: UnsafeMutableRawBufferPointer) -> Int {
        // The position is passed inout, not captured: a local function capturing a variable
        // costs a dynamic exclusivity check per use.
        @inline(__always) func dec(_ v: UInt32, _ k: inout Int) {
            if v >= 100 { out[k] = UInt8(48 + v / 100); k += 1 }
            if v >= 10 { out[k] = UInt8(48 + v / 10 % 10); k += 1 }
            out[k] = UInt8(48 + v % 10); k += 1
        }
        if isV4 {
            let a = v4
            var k = 0
            dec(a >> 24, &k); out[k] = 46; k += 1
            dec(a >> 16 & 0xFF, &k); out[k] = 46; k += 1
            dec(a >> 8 & 0xFF, &k); out[k] = 46; k += 1
            dec(a & 0xFF, &k)
            return k
        }
        var g: (UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16) = (0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &g) { raw in
            let groups = raw.bindMemory(to: UInt16.self)
            for i in 0..<4 {
                groups[i] = UInt16(truncatingIfNeeded: high >> (48 - 16 * UInt64(i)))
                groups[i + 4] = UInt16(truncatingIfNeeded: low >> (48 - 16 * UInt64(i)))
            }
            // RFC 5952: compress the longest run (length >= 2) of zero groups, the first if tied.
            var bestStart = -1, bestLen = 0, i = 0
            while i < 8 {
                if groups[i] == 0 {
                    var j = i
                    while j < 8 && groups[j] == 0 { j += 1 }
                    if j - i > bestLen && j - i >= 2 { bestStart = i; bestLen = j - i }
                    i = j
                } else { i += 1 }
            }
            let hex: StaticString = "0123456789abcdef"
            func group(_ v: UInt16, _ k: inout Int) {
                var started = false
                for shift in stride(from: 12, through: 0, by: -4) {
                    let d = Int(v >> UInt16(shift) & 0xF)
                    if d != 0 || started || shift == 0 { out[k] = hex.utf8Start[d]; k += 1; started = true }
                }
            }
            var k = 0
            var n = 0
            while n < 8 {
                if n == bestStart {
                    out[k] = 58; out[k + 1] = 58; k += 2
                    n += bestLen
                    if n == 8 { break }
                    group(groups[n], &k); n += 1
                    if n < 8 { out[k] = 58; k += 1 }
                    continue
                }
                group(groups[n], &k)
                n += 1
                if n < 8 && n != bestStart { out[k] = 58; k += 1 }
            }
            return k
        }
    }

    /// Parses dotted IPv4 or RFC 4291 IPv6 text (including `::ffff:1.2.3.4`); nil if malformed.
    public init?(_ text: some StringProtocol) {
        let s = Substring(text)
        // Byte searches: `contains(":")` on a substring is Foundation's string search.
        if !s.utf8.contains(58) {
            guard let v = IPAddress.parseV4(s) else { return nil }
            self.init(v4: v)
            return
        }
        var head: [UInt16] = [], tail: [UInt16] = []
        var seenDouble = false
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count < 3 || parts.count > 9 { return nil }
        var idx = 0
        var v4tail: UInt32? = nil
        while idx < parts.count {
            let p = parts[idx]
            if p.isEmpty {
                // "::" shows as one or two empty parts (at edges).
                if seenDouble {
                    if idx == parts.count - 1 && parts[idx - 1].isEmpty { idx += 1; continue }
                    if idx == 1 && parts[0].isEmpty { idx += 1; continue }
                    return nil
                }
                seenDouble = true
                if idx == 0 { guard parts.count > 1, parts[1].isEmpty else { return nil } }
                idx += 1
                continue
            }
            if idx == parts.count - 1, p.utf8.contains(46) {
                guard let v = IPAddress.parseV4(p) else { return nil }
                v4tail = v
                idx += 1
                continue
            }
            guard p.count <= 4, let g = UInt16(p, radix: 16) else { return nil }
            if seenDouble { tail.append(g) } else { head.append(g) }
            idx += 1
        }
        if let v = v4tail {
            let hiG = UInt16(v >> 16), loG = UInt16(v & 0xFFFF)
            if seenDouble { tail += [hiG, loG] } else { head += [hiG, loG] }
        }
        let total = head.count + tail.count
        if seenDouble ? total > 7 : total != 8 { return nil }
        let groups = head + [UInt16](repeating: 0, count: 8 - total) + tail
        var h: UInt64 = 0, l: UInt64 = 0
        for k in 0..<4 { h = h << 16 | UInt64(groups[k]); l = l << 16 | UInt64(groups[k + 4]) }
        self.init(high: h, low: l)
    }

    static func parseV4(_ s: Substring) -> UInt32? {
        // One pass over the bytes: four decimal octets of one to three digits.
        var value: UInt32 = 0, octet: UInt32 = 0, digits = 0, octets = 0
        for b in s.utf8 {
            if b == UInt8(ascii: ".") {
                guard digits > 0, octets < 3 else { return nil }
                value = value << 8 | octet
                octets += 1; octet = 0; digits = 0
            } else if b >= 48 && b <= 57 {
                guard digits < 3 else { return nil }
                octet = octet * 10 + UInt32(b - 48)
                guard octet <= 255 else { return nil }
                digits += 1
            } else {
                return nil
            }
        }
        guard digits > 0, octets == 3 else { return nil }
        return value << 8 | octet
    }
}

extension IPAddress: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let a = IPAddress(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an IP address: \(s)")
        }
        self = a
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
