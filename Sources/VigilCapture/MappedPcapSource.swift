import Foundation
import VigilCore
import VigilWire

/// Classic (non-pcapng, uncompressed) pcap files read by mapping them into memory: no copy
/// per packet and no system call per packet. Every layout libpcap writes is read: micro- and
/// nanosecond magic, either byte order. pcapng, gzip and live capture go through libpcap
/// (`PcapFileSource`, `LivePcapSource`); `CaptureFiles.open` picks the reader.
public final class MappedPcapSource: PacketSource {
    public let name: String
    public let linkType: LinkType
    private let file: MappedFile
    private let base: UnsafeRawPointer
    private let size: Int
    private let swapped: Bool
    private let nanosecond: Bool
    // Read once per packet from the loop; nothing else touches them concurrently.
    @exclusivity(unchecked) private var offset = 24
    @exclusivity(unchecked) public private(set) var packets: UInt64 = 0
    /// libpcap's largest accepted record; a bigger length means a damaged file.
    static let maxRecord = 262_144

    public init(path: String) throws {
        name = path
        file = try MappedFile(path: path, minimum: 24, format: "pcap")
        base = file.base
        size = file.size
        let magic = base.loadUnaligned(as: UInt32.self)
        switch magic {
        case 0xA1B2_C3D4: swapped = false; nanosecond = false
        case 0xA1B2_3C4D: swapped = false; nanosecond = true
        case 0xD4C3_B2A1: swapped = true; nanosecond = false
        case 0x4D3C_B2A1: swapped = true; nanosecond = true
        default:
            throw VigilError.badInput("not a pcap capture (magic 0x\(String(magic, radix: 16)))", file: path, offset: 0)
        }
        let rawLink = base.loadUnaligned(fromByteOffset: 20, as: UInt32.self)
        let link = (swapped ? rawLink.byteSwapped : rawLink) & 0x03FF_FFFF
        linkType = LinkType(rawValue: Int32(link))
        if !linkType.isSupported {
            throw VigilError.unsupported("link-layer type \(linkType) is not decoded", file: path)
        }
    }

    /// Whether `path` is a classic pcap this reader takes (by its first four bytes).
    static func accepts(_ magic: UInt32) -> Bool {
        // `magic` as read big-endian from the file.
        [0xA1B2_C3D4, 0xD4C3_B2A1, 0xA1B2_3C4D, 0x4D3C_B2A1].contains(magic)
    }

    @inline(__always) private func word(_ at: Int) -> UInt32 {
        let v = base.loadUnaligned(fromByteOffset: at, as: UInt32.self)
        return swapped ? v.byteSwapped : v
    }

    public func next() throws -> (UnsafeRawBufferPointer, Timestamp, LinkType)? {
        let o = offset
        if o >= size { return nil }
        guard o + 16 <= size else {
            offset = size
            throw VigilError.badInput("truncated capture: the record header at this offset needs 16 bytes, the file ends after \(size - o) (after packet \(packets))", file: name, offset: Int64(o))
        }
        let sec = word(o), frac = word(o + 4), caplen = Int(word(o + 8))
        guard caplen <= Self.maxRecord else {
            offset = size
            throw VigilError.badInput("record length \(caplen) is larger than the largest capture record (\(Self.maxRecord)); the file is damaged here (after packet \(packets))", file: name, offset: Int64(o))
        }
        guard o + 16 + caplen <= size else {
            offset = size
            throw VigilError.badInput("truncated capture: the record at this offset needs \(caplen) bytes, the file ends after \(size - o - 16) (after packet \(packets))", file: name, offset: Int64(o))
        }
        offset = o + 16 + caplen
        packets &+= 1
        file.consumed(upTo: o)
        let ts = Timestamp(seconds: Int64(sec), nanoseconds: nanosecond ? Int64(frac) : Int64(frac) &* 1000)
        return (UnsafeRawBufferPointer(start: base + o + 16, count: caplen), ts, linkType)
    }
}

/// Opens a capture file with the fastest reader that handles it.
public enum CaptureFiles {
    public enum Reader: String, Sendable { case auto, libpcap }

    public static func open(_ path: String, reader: Reader = .auto) throws -> PacketSource {
        if reader == .auto {
            let (gzip, magic) = PcapFileSource.sniff(path)
            if !gzip && MappedPcapSource.accepts(magic) { return try MappedPcapSource(path: path) }
            if !gzip && magic == 0x0A0D_0D0A { return try MappedPcapngSource(path: path) }
        }
        return try PcapFileSource(path: path)
    }
}
