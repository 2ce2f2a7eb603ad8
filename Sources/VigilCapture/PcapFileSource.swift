import CPcap
import CZlib
import VigilCore
import VigilWire

/// Where packets come from: a capture file or a live interface.
public protocol PacketSource: AnyObject {
    var name: String { get }
    var linkType: LinkType { get }
    /// The link type of the first interface (a pcapng file may have more).
    /// The next packet and its link type, valid until the following call; nil at the end.
    func next() throws -> (UnsafeRawBufferPointer, Timestamp, LinkType)?
    /// Bytes read and total, when the source knows them (a mapped file does; a pipe does not).
    var progress: (done: Int64, total: Int64)? { get }
}

extension PacketSource {
    public var progress: (done: Int64, total: Int64)? { nil }
}

/// A pcap or pcapng file, plain or gzip-compressed, read by libpcap with nanosecond
/// timestamps whatever the file's precision and byte order.
public final class PcapFileSource: PacketSource {
    public let name: String
    public let linkType: LinkType
    private let handle: OpaquePointer
    public private(set) var packets: UInt64 = 0
    public private(set) var finished = false
    /// Classic pcap: the byte offset of the next record header, counted (no syscall per packet).
    private var nextRecord: Int64 = 24
    private let isPcapng: Bool

    public init(path: String) throws {
        name = path
        var err = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        // Plain files go straight to libpcap; gzip-compressed ones through zlib.
        let (gzip, magic) = Self.sniff(path)
        isPcapng = magic == 0x0A0D_0D0A
        guard let fp = gzip ? vigil_gzfopen(path) : fopen(path, "rb") else {
            throw VigilError.io("cannot open: \(String(cString: vigil_strerror(vigil_errno())))", file: path)
        }
        guard let h = pcap_fopen_offline_with_tstamp_precision(fp, UInt32(PCAP_TSTAMP_PRECISION_NANO), &err) else {
            fclose(fp)
            let msg = String(errorBuffer: err)
            throw VigilError.badInput("not a readable pcap or pcapng capture (\(msg))", file: path, offset: 0)
        }
        handle = h
        linkType = LinkType(rawValue: pcap_datalink(h))
        if !linkType.isSupported {
            pcap_close(h)
            throw VigilError.unsupported("link-layer type \(linkType) is not decoded", file: path)
        }
    }

    deinit { pcap_close(handle) }

    /// Whether the file is gzip-compressed, and the capture's first four bytes (big-endian).
    static func sniff(_ path: String) -> (Bool, UInt32) {
        var gz = false
        if let f = fopen(path, "rb") {
            var m: (UInt8, UInt8) = (0, 0)
            let n = withUnsafeMutableBytes(of: &m) { fread($0.baseAddress, 1, 2, f) }
            gz = n == 2 && m.0 == 0x1F && m.1 == 0x8B
            fclose(f)
        }
        var magic: UInt32 = 0
        if let z = gzopen(path, "rb") {
            var b: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
            if withUnsafeMutableBytes(of: &b, { gzread(z, $0.baseAddress, 4) }) == 4 {
                magic = UInt32(b.0) << 24 | UInt32(b.1) << 16 | UInt32(b.2) << 8 | UInt32(b.3)
            }
            gzclose(z)
        }
        return (gz, magic)
    }

    /// Byte offset in the (decompressed) file of the next record, for error messages: exact
    /// for pcap; for pcapng, where libpcap's stream position is after the block it refused.
    public var offset: Int64 { isPcapng ? Int64(vigil_pcap_offset(handle)) : nextRecord }

    public func next() throws -> (UnsafeRawBufferPointer, Timestamp, LinkType)? {
        if finished { return nil }
        var header: UnsafeMutablePointer<pcap_pkthdr>? = nil
        var data: UnsafePointer<UInt8>? = nil
        let r = pcap_next_ex(handle, &header, &data)
        switch r {
        case 1:
            guard let h = header?.pointee, let d = data else { return nil }
            packets &+= 1
            nextRecord &+= 16 &+ Int64(h.caplen)
            let ts = Timestamp(seconds: Int64(h.ts.tv_sec), nanoseconds: Int64(h.ts.tv_usec))
            return (UnsafeRawBufferPointer(start: d, count: Int(h.caplen)), ts, linkType)
        case -2:
            finished = true
            return nil
        default:
            finished = true
            let msg = String(cString: pcap_geterr(handle))
            throw VigilError.badInput("stopped reading after packet \(packets): \(msg)", file: name, offset: offset)
        }
    }
}

/// Several sources merged into one stream in timestamp order (a k-way merge on each
/// source's next packet).
public final class MergedPacketSource {
    private var sources: [PacketSource]
    private var heads: [(UnsafeRawBufferPointer, Timestamp, LinkType)?]
    public private(set) var failures: [VigilError] = []

    /// Bytes read over bytes in all sources that know their size.
    public var progress: (done: Int64, total: Int64)? {
        var d: Int64 = 0, t: Int64 = 0
        for s in sources { if let p = s.progress { d += p.done; t += p.total } }
        return t > 0 ? (d, t) : nil
    }

    public init(_ sources: [PacketSource]) {
        self.sources = sources
        heads = Array(repeating: nil, count: sources.count)
        for i in sources.indices { advance(i) }
    }

    private func advance(_ i: Int) {
        do { heads[i] = try sources[i].next() } catch let e as VigilError {
            heads[i] = nil
            failures.append(e)
        } catch {
            heads[i] = nil
            failures.append(.io("\(error)", file: sources[i].name))
        }
    }

    /// Calls `body` with each packet in time order. Packets from a source that fails are
    /// kept up to the failure; the failure is recorded in `failures`.
    public func forEach(_ body: (UnsafeRawBufferPointer, Timestamp, LinkType) -> Void) {
        if sources.count == 1 {
            // One source: no merging to do.
            let s = sources[0]
            guard var h = heads[0] else { return }
            while true {
                body(h.0, h.1, h.2)
                do {
                    guard let n = try s.next() else { return }
                    h = n
                } catch let e as VigilError { failures.append(e); return } catch { failures.append(.io("\(error)", file: s.name)); return }
            }
        }
        while true {
            var best = -1
            for i in heads.indices {
                guard let h = heads[i] else { continue }
                if best < 0 || h.1 < heads[best]!.1 { best = i }
            }
            guard best >= 0, let (buf, ts, link) = heads[best] else { return }
            body(buf, ts, link)
            advance(best)
        }
    }
}

extension String {
    /// Text from a C error buffer such as libpcap's `errbuf` (up to the first NUL).
    init(errorBuffer: [CChar]) {
        self.init(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
