import CHints
import Foundation
import VigilCore
import VigilWire

/// An uncompressed capture file mapped into memory and read by a sans-I/O parser: no copy
/// and no system call per packet. gzip, `--reader libpcap` and live capture go through
/// libpcap. `CaptureFiles.open` picks the reader.
public final class MappedCaptureSource<Parser: CaptureParser>: PacketSource {
    public let name: String
    public let linkType: LinkType
    private let file: MappedFile
    @exclusivity(unchecked) private var parser: Parser

    public init(path: String) throws {
        name = path
        file = try MappedFile(path: path)
        do { parser = try Parser(file.bytes) } catch { throw error.vigil(file: path) }
        linkType = parser.linkType
    }

    public var packets: UInt64 { parser.packets }
    static var prefetchDistance: Int { 8192 }
    public var progress: (done: Int64, total: Int64)? { (Int64(parser.position), Int64(file.size)) }

    // Called once a packet through the PacketSource existential: specialised, so the parser's
    // next() is a direct call rather than a witness-table call on generic values.
    @_specialize(where Parser == PcapParser)
    @_specialize(where Parser == PcapngParser)
    public func next() throws -> (UnsafeRawBufferPointer, Timestamp, LinkType)? {
        do {
            let p = try parser.next()
            file.consumed(upTo: parser.position)
            // While this packet is processed, the next record's header and first bytes (the
            // ones the parser and decoder read) come into cache; and, since the hardware
            // prefetcher stops at page boundaries, the pages two ahead start to.
            file.prefetch(at: parser.position)
            file.prefetch(at: parser.position + 64)
            file.prefetch(at: parser.position + Self.prefetchDistance)
            return p
        } catch { throw error.vigil(file: name) }
    }
}

/// Classic pcap, every layout libpcap writes.
public typealias MappedPcapSource = MappedCaptureSource<PcapParser>
/// pcapng, also with interfaces of different link types (which libpcap refuses).
public typealias MappedPcapngSource = MappedCaptureSource<PcapngParser>

extension CaptureFormatError {
    func vigil(file: String) -> VigilError {
        unsupported ? .unsupported(message, file: file) : .badInput(message, file: file, offset: Int64(offset))
    }
}

/// Opens a capture file with the fastest reader that handles it.
public enum CaptureFiles {
    public enum Reader: String, Sendable { case auto, libpcap }

    public static func open(_ path: String, reader: Reader = .auto) throws -> PacketSource {
        if reader == .auto {
            let (gzip, magic) = PcapFileSource.sniff(path)
            if !gzip && PcapParser.accepts(magic: magic) { return try MappedPcapSource(path: path) }
            if !gzip && magic == 0x0A0D_0D0A { return try MappedPcapngSource(path: path) }
        }
        return try PcapFileSource(path: path)
    }
}
