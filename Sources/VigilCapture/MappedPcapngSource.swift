import Foundation
import VigilCore
import VigilWire

/// Uncompressed pcapng files read by mapping them into memory: sections in either byte
/// order, any number of interfaces of any (supported) link types, per-interface timestamp
/// resolution and offset, enhanced, simple and obsolete packet blocks. libpcap refuses files
/// whose interfaces differ in link type; this reader does not.
public final class MappedPcapngSource: PacketSource {
    public let name: String
    private let file: MappedFile
    private let base: UnsafeRawPointer
    private let size: Int
    @exclusivity(unchecked) private var offset = 0
    @exclusivity(unchecked) private var swapped = false
    @exclusivity(unchecked) public private(set) var packets: UInt64 = 0
    private struct Interface {
        var link: LinkType
        var snaplen: Int
        var unitsPerSecond: UInt64 = 1_000_000
        var binaryResolution = false
        var offsetSeconds: Int64 = 0
    }
    private var interfaces: [Interface] = []
    /// The first interface's link type (the type of the packet last returned is in `next()`).
    public private(set) var linkType: LinkType = .ethernet

    public init(path: String) throws {
        name = path
        file = try MappedFile(path: path, minimum: 28, format: "pcapng")
        base = file.base
        size = file.size
        // Read blocks up to the first interface so that `linkType` is known.
        try readMetadata()
    }

    @inline(__always) private func u32(_ at: Int) -> UInt32 {
        let v = base.loadUnaligned(fromByteOffset: at, as: UInt32.self)
        return swapped ? v.byteSwapped : v
    }
    @inline(__always) private func u16(_ at: Int) -> UInt16 {
        let v = base.loadUnaligned(fromByteOffset: at, as: UInt16.self)
        return swapped ? v.byteSwapped : v
    }

    private func fail(_ message: String, at o: Int) -> VigilError {
        .badInput(message + " (after packet \(packets))", file: name, offset: Int64(o))
    }

    /// Consumes section and interface blocks at the start, stopping before the first packet.
    private func readMetadata() throws {
        while offset < size, interfaces.isEmpty {
            guard try block(stopAtPacket: true) != nil || !interfaces.isEmpty else { continue }
        }
        if let first = interfaces.first { linkType = first.link }
    }

    public func next() throws -> (UnsafeRawBufferPointer, Timestamp, LinkType)? {
        file.consumed(upTo: offset)
        while offset < size {
            if let p = try block(stopAtPacket: false) { return p }
        }
        return nil
    }

    /// Reads the block at `offset`. Returns a packet for packet blocks; nil for the others.
    /// With `stopAtPacket`, leaves a packet block unread (for `init`).
    private func block(stopAtPacket: Bool) throws -> (UnsafeRawBufferPointer, Timestamp, LinkType)? {
        let o = offset
        guard o + 12 <= size else {
            offset = size
            throw fail("truncated capture: a block header needs 12 bytes, the file ends after \(size - o)", at: o)
        }
        let rawType = base.loadUnaligned(fromByteOffset: o, as: UInt32.self)
        if rawType == 0x0A0D_0D0A {
            // Section header: the byte-order magic decides how the rest of the section reads.
            let bom = base.loadUnaligned(fromByteOffset: o + 8, as: UInt32.self)
            switch bom {
            case 0x1A2B_3C4D: swapped = false
            case 0x4D3C_2B1A: swapped = true
            default:
                offset = size
                throw fail("not a pcapng section header (byte-order magic 0x\(String(bom, radix: 16)))", at: o)
            }
            interfaces = []
        }
        let type = u32(o)
        let length = Int(u32(o + 4))
        guard length >= 12, length % 4 == 0, o + length <= size else {
            offset = size
            throw fail(o + length > size ? "truncated capture: a block of \(length) bytes runs past the end of the file"
                                         : "damaged block: length \(length) is not a multiple of 4 of at least 12", at: o)
        }
        guard u32(o + length - 4) == UInt32(length) else {
            offset = size
            throw fail("damaged block: its trailing length does not match its leading length \(length)", at: o)
        }
        let body = o + 8, bodyEnd = o + length - 4
        if stopAtPacket && (type == 6 || type == 3 || type == 2) { return nil }
        offset = o + length
        switch type {
        case 0x0A0D_0D0A:
            return nil
        case 1:
            guard bodyEnd - body >= 8 else { throw fail("damaged interface block", at: o) }
            let link = LinkType(rawValue: Int32(u16(body)))
            var iface = Interface(link: link, snaplen: Int(u32(body + 4)))
            parseOptions(from: body + 8, to: bodyEnd) { code, at, len in
                if code == 9, len >= 1 {
                    let v = base.load(fromByteOffset: at, as: UInt8.self)
                    let exp = Int(v & 0x7F)
                    iface.binaryResolution = v & 0x80 != 0
                    iface.unitsPerSecond = iface.binaryResolution ? (exp < 63 ? 1 << UInt64(exp) : 1 << 62) : Self.pow10(exp)
                } else if code == 14, len >= 8 {
                    let hi = UInt64(u32(at)), lo = UInt64(u32(at + 4))
                    iface.offsetSeconds = Int64(bitPattern: swapped ? (lo << 32 | hi) : (hi << 32 | lo))
                }
            }
            interfaces.append(iface)
            if interfaces.count == 1 { linkType = link }
            return nil
        case 6, 2:
            let enhanced = type == 6
            guard bodyEnd - body >= 20 else { throw fail("damaged packet block", at: o) }
            let id = enhanced ? Int(u32(body)) : Int(u16(body))
            guard id < interfaces.count else {
                offset = size
                throw fail("packet block names interface \(id), but the section has \(interfaces.count)", at: o)
            }
            let caplen = Int(u32(body + 12))
            guard body + 20 + caplen <= bodyEnd else {
                offset = size
                throw fail("damaged packet block: captured length \(caplen) runs past the block", at: o)
            }
            let iface = interfaces[id]
            guard iface.link.isSupported else { return nil }
            let ts = (UInt64(u32(body + 4)) << 32) | UInt64(u32(body + 8))
            packets &+= 1
            return (UnsafeRawBufferPointer(start: base + body + 20, count: caplen), Self.timestamp(ts, iface), iface.link)
        case 3:
            guard let iface = interfaces.first, bodyEnd - body >= 4 else {
                offset = size
                throw fail("simple packet block before any interface", at: o)
            }
            let original = Int(u32(body))
            let caplen = min(original, bodyEnd - body - 4, iface.snaplen == 0 ? Int.max : iface.snaplen)
            guard iface.link.isSupported else { return nil }
            packets &+= 1
            // Simple packet blocks carry no time; use the epoch (they are rare in practice).
            return (UnsafeRawBufferPointer(start: base + body + 4, count: max(0, caplen)), Timestamp(nanoseconds: 0), iface.link)
        default:
            return nil  // name resolution, statistics, custom blocks…
        }
    }

    private func parseOptions(from start: Int, to end: Int, _ body: (_ code: UInt16, _ at: Int, _ length: Int) -> Void) {
        var p = start
        while p + 4 <= end {
            let code = u16(p), len = Int(u16(p + 2))
            if code == 0 { return }
            guard p + 4 + len <= end else { return }
            body(code, p + 4, len)
            p += 4 + (len + 3) / 4 * 4
        }
    }

    static func pow10(_ e: Int) -> UInt64 {
        var v: UInt64 = 1
        for _ in 0..<min(e, 19) { v &*= 10 }
        return v
    }

    private static func timestamp(_ units: UInt64, _ i: Interface) -> Timestamp {
        let per = i.unitsPerSecond
        let secs = Int64(units / per)
        let frac = units % per
        let nanos: Int64
        if per <= 1_000_000_000 && 1_000_000_000 % per == 0 {
            nanos = Int64(frac) * Int64(1_000_000_000 / per)
        } else {
            nanos = Int64((Double(frac) / Double(per) * 1e9).rounded(.down))
        }
        return Timestamp(seconds: secs &+ i.offsetSeconds, nanoseconds: nanos)
    }
}
