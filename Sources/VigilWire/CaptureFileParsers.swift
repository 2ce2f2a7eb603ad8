import VigilCore

/// Why a capture file could not be read further: a message and the byte offset it is about.
public struct CaptureFormatError: Error, Sendable {
    public let message: String
    public let offset: Int
    public let unsupported: Bool
    init(_ message: String, at offset: Int, unsupported: Bool = false) {
        self.message = message; self.offset = offset; self.unsupported = unsupported
    }
}

/// A parser of a whole capture file held in memory.
public protocol CaptureParser {
    init(_ buffer: UnsafeRawBufferPointer) throws(CaptureFormatError)
    /// The first interface's link type.
    var linkType: LinkType { get }
    /// Where the next record starts.
    var position: Int { get }
    var packets: UInt64 { get }
    /// The next packet and its link type; nil at the end.
    mutating func next() throws(CaptureFormatError) -> (UnsafeRawBufferPointer, Timestamp, LinkType)?
}

/// Classic pcap records from a buffer holding the whole file (sans-I/O: the caller maps or
/// reads the file). Micro- and nanosecond magic, either byte order. Packets point into the
/// buffer; nothing is copied.
public struct PcapParser: CaptureParser {
    public let linkType: LinkType
    private let buffer: UnsafeRawBufferPointer
    private let swapped: Bool
    private let nanosecond: Bool
    public private(set) var position = 24
    public private(set) var packets: UInt64 = 0
    /// libpcap's largest accepted record; a bigger length means a damaged file.
    public static let maxRecord = 262_144

    /// The first four bytes of a classic pcap, read big-endian.
    public static func accepts(magic: UInt32) -> Bool {
        magic == 0xA1B2_C3D4 || magic == 0xD4C3_B2A1 || magic == 0xA1B2_3C4D || magic == 0x4D3C_B2A1
    }

    public init(_ buffer: UnsafeRawBufferPointer) throws(CaptureFormatError) {
        self.buffer = buffer
        guard buffer.count >= 24 else {
            throw CaptureFormatError("not a readable pcap capture: \(buffer.count) bytes is shorter than its 24-byte header", at: 0)
        }
        let magic = buffer.loadUnaligned(as: UInt32.self)
        switch magic {
        case 0xA1B2_C3D4: swapped = false; nanosecond = false
        case 0xA1B2_3C4D: swapped = false; nanosecond = true
        case 0xD4C3_B2A1: swapped = true; nanosecond = false
        case 0x4D3C_B2A1: swapped = true; nanosecond = true
        default: throw CaptureFormatError("not a pcap capture (magic 0x\(String(magic, radix: 16)))", at: 0)
        }
        let raw = buffer.loadUnaligned(fromByteOffset: 20, as: UInt32.self)
        linkType = LinkType(rawValue: Int32((swapped ? raw.byteSwapped : raw) & 0x03FF_FFFF))
        guard linkType.isSupported else {
            throw CaptureFormatError("link-layer type \(linkType) is not decoded", at: 20, unsupported: true)
        }
    }

    @inline(__always) private func word(_ at: Int) -> UInt32 {
        let v = buffer.loadUnaligned(fromByteOffset: at, as: UInt32.self)
        return swapped ? v.byteSwapped : v
    }

    /// The next packet; nil at the end. After an error the parser stays at the end.
    public mutating func next() throws(CaptureFormatError) -> (UnsafeRawBufferPointer, Timestamp, LinkType)? {
        let o = position, size = buffer.count
        if o >= size { return nil }
        guard o + 16 <= size else {
            position = size
            throw CaptureFormatError("truncated capture: the record header at this offset needs 16 bytes, the file ends after \(size - o) (after packet \(packets))", at: o)
        }
        let sec = word(o), frac = word(o + 4), caplen = Int(word(o + 8))
        guard caplen <= Self.maxRecord else {
            position = size
            throw CaptureFormatError("record length \(caplen) is larger than the largest capture record (\(Self.maxRecord)); the file is damaged here (after packet \(packets))", at: o)
        }
        guard o + 16 + caplen <= size else {
            position = size
            throw CaptureFormatError("truncated capture: the record at this offset needs \(caplen) bytes, the file ends after \(size - o - 16) (after packet \(packets))", at: o)
        }
        position = o + 16 + caplen
        packets &+= 1
        let ts = Timestamp(seconds: Int64(sec), nanoseconds: nanosecond ? Int64(frac) : Int64(frac) &* 1000)
        return (UnsafeRawBufferPointer(rebasing: buffer[(o + 16)..<(o + 16 + caplen)]), ts, linkType)
    }
}

/// pcapng blocks from a buffer holding the whole file: sections in either byte order, any
/// number of interfaces of any supported link types, per-interface timestamp resolution and
/// offset, enhanced, simple and obsolete packet blocks; other blocks are skipped.
public struct PcapngParser: CaptureParser {
    private let buffer: UnsafeRawBufferPointer
    private var swapped = false
    public private(set) var position = 0
    public private(set) var packets: UInt64 = 0
    struct Interface {
        var link: LinkType
        var snaplen: Int
        var unitsPerSecond: UInt64 = 1_000_000
        var offsetSeconds: Int64 = 0
    }
    private var interfaces: [Interface] = []
    /// The first interface's link type (each packet comes with its own).
    public private(set) var linkType: LinkType = .ethernet

    public init(_ buffer: UnsafeRawBufferPointer) throws(CaptureFormatError) {
        self.buffer = buffer
        guard buffer.count >= 28, buffer.loadUnaligned(as: UInt32.self) == 0x0A0D_0D0A else {
            throw CaptureFormatError("not a pcapng capture: no section header at the start", at: 0)
        }
        // Read the blocks before the first packet so that `linkType` is known.
        while position < buffer.count, interfaces.isEmpty {
            _ = try block(stopAtPacket: true)
            if position < buffer.count, isPacketBlock(at: position) { break }
        }
        if let first = interfaces.first { linkType = first.link }
    }

    @inline(__always) private func u32(_ at: Int) -> UInt32 {
        let v = buffer.loadUnaligned(fromByteOffset: at, as: UInt32.self)
        return swapped ? v.byteSwapped : v
    }
    @inline(__always) private func u16(_ at: Int) -> UInt16 {
        let v = buffer.loadUnaligned(fromByteOffset: at, as: UInt16.self)
        return swapped ? v.byteSwapped : v
    }

    private func isPacketBlock(at o: Int) -> Bool {
        guard o + 4 <= buffer.count else { return false }
        let t = u32(o)
        return t == 6 || t == 3 || t == 2
    }

    private func fail(_ message: String, at o: Int) -> CaptureFormatError {
        CaptureFormatError(message + " (after packet \(packets))", at: o)
    }

    public mutating func next() throws(CaptureFormatError) -> (UnsafeRawBufferPointer, Timestamp, LinkType)? {
        while position < buffer.count {
            if let p = try block(stopAtPacket: false) { return p }
        }
        return nil
    }

    /// Reads the block at `position`: a packet for packet blocks, nil for the others.
    private mutating func block(stopAtPacket: Bool) throws(CaptureFormatError) -> (UnsafeRawBufferPointer, Timestamp, LinkType)? {
        let o = position, size = buffer.count
        guard o + 12 <= size else {
            position = size
            throw fail("truncated capture: a block header needs 12 bytes, the file ends after \(size - o)", at: o)
        }
        if buffer.loadUnaligned(fromByteOffset: o, as: UInt32.self) == 0x0A0D_0D0A {
            // Section header: its byte-order magic decides how the rest of the section reads.
            let bom = buffer.loadUnaligned(fromByteOffset: o + 8, as: UInt32.self)
            switch bom {
            case 0x1A2B_3C4D: swapped = false
            case 0x4D3C_2B1A: swapped = true
            default:
                position = size
                throw fail("not a pcapng section header (byte-order magic 0x\(String(bom, radix: 16)))", at: o)
            }
            interfaces = []
        }
        let type = u32(o)
        let length = Int(u32(o + 4))
        guard length >= 12, length % 4 == 0, length <= size - o else {
            position = size
            throw fail(length > size - o ? "truncated capture: a block of \(length) bytes runs past the end of the file"
                                         : "damaged block: length \(length) is not a multiple of 4 of at least 12", at: o)
        }
        guard u32(o + length - 4) == UInt32(length) else {
            position = size
            throw fail("damaged block: its trailing length does not match its leading length \(length)", at: o)
        }
        if stopAtPacket && (type == 6 || type == 3 || type == 2) { return nil }
        let body = o + 8, bodyEnd = o + length - 4
        position = o + length
        switch type {
        case 1:
            guard bodyEnd - body >= 8 else { position = size; throw fail("damaged interface block", at: o) }
            var iface = Interface(link: LinkType(rawValue: Int32(u16(body))), snaplen: Int(u32(body + 4)))
            var p = body + 8
            while p + 4 <= bodyEnd {
                let code = u16(p), len = Int(u16(p + 2))
                if code == 0 || p + 4 + len > bodyEnd { break }
                if code == 9, len >= 1 {
                    let v = buffer[p + 4]
                    let exp = Int(v & 0x7F)
                    iface.unitsPerSecond = v & 0x80 != 0 ? UInt64(1) << UInt64(min(exp, 62)) : Self.pow10(exp)
                } else if code == 14, len >= 8 {
                    let a = UInt64(u32(p + 4)), b = UInt64(u32(p + 8))
                    iface.offsetSeconds = Int64(bitPattern: swapped ? (b << 32 | a) : (a << 32 | b))
                }
                p += 4 + (len + 3) / 4 * 4
            }
            if iface.unitsPerSecond == 0 { iface.unitsPerSecond = 1_000_000 }
            interfaces.append(iface)
            if interfaces.count == 1 { linkType = iface.link }
            return nil
        case 6, 2:
            guard bodyEnd - body >= 20 else { position = size; throw fail("damaged packet block", at: o) }
            let id = type == 6 ? Int(u32(body)) : Int(u16(body))
            guard id < interfaces.count else {
                position = size
                throw fail("packet block names interface \(id), but the section has \(interfaces.count)", at: o)
            }
            let caplen = Int(u32(body + 12))
            guard caplen <= bodyEnd - body - 20 else {
                position = size
                throw fail("damaged packet block: captured length \(caplen) runs past the block", at: o)
            }
            let iface = interfaces[id]
            guard iface.link.isSupported else { return nil }
            let units = (UInt64(u32(body + 4)) << 32) | UInt64(u32(body + 8))
            packets &+= 1
            return (UnsafeRawBufferPointer(rebasing: buffer[(body + 20)..<(body + 20 + caplen)]), Self.timestamp(units, iface), iface.link)
        case 3:
            guard let iface = interfaces.first, bodyEnd - body >= 4 else {
                position = size
                throw fail("simple packet block before any interface", at: o)
            }
            let original = Int(u32(body))
            let caplen = max(0, min(original, bodyEnd - body - 4, iface.snaplen == 0 ? Int.max : iface.snaplen))
            guard iface.link.isSupported else { return nil }
            packets &+= 1
            // Simple packet blocks carry no time; they are rare in practice.
            return (UnsafeRawBufferPointer(rebasing: buffer[(body + 4)..<(body + 4 + caplen)]), Timestamp(nanoseconds: 0), iface.link)
        default:
            return nil  // section headers, name resolution, statistics, custom blocks…
        }
    }

    static func pow10(_ e: Int) -> UInt64 {
        var v: UInt64 = 1
        for _ in 0..<min(e, 19) { v &*= 10 }
        return v
    }

    static func timestamp(_ units: UInt64, _ i: Interface) -> Timestamp {
        let per = i.unitsPerSecond
        let secs = Int64(truncatingIfNeeded: units / per)
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
