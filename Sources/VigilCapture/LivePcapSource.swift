import CPcap
import Foundation
import Synchronization
import VigilCore
import VigilWire

/// Packets from a live interface through libpcap, with an optional BPF filter.
/// `stop()` may be called from another thread (a signal handler's queue); the read loop
/// wakes at least every 100 ms to notice.
public final class LivePcapSource: PacketSource, @unchecked Sendable {
    public let name: String
    public let linkType: LinkType
    private let handle: OpaquePointer
    private let stopped = Atomic<Bool>(false)
    public let limit: UInt64?
    /// When to stop, on the machine's monotonic clock (a live source may read the clock).
    private let deadline: ContinuousClock.Instant?
    public private(set) var packets: UInt64 = 0
    /// Called on the reading thread whenever a wait for packets times out (every 100 ms on a
    /// quiet link), so the reader can move time forward and do periodic work.
    public var onIdle: (() -> Void)?

    public init(interface: String, filter: String?, snaplen: Int32 = 65535, promiscuous: Bool = true,
                bufferBytes: Int32 = 32 << 20, limit: UInt64? = nil, seconds: Int64? = nil) throws {
        name = interface
        self.limit = limit
        deadline = seconds.map { ContinuousClock.now.advanced(by: .seconds($0)) }
        var err = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard let h = pcap_create(interface, &err) else {
            throw VigilError.io("cannot open interface: \(String(errorBuffer: err))", file: interface)
        }
        pcap_set_snaplen(h, snaplen)
        pcap_set_promisc(h, promiscuous ? 1 : 0)
        pcap_set_timeout(h, 100)
        pcap_set_buffer_size(h, bufferBytes)
        _ = pcap_set_tstamp_precision(h, Int32(PCAP_TSTAMP_PRECISION_NANO))
        let rc = pcap_activate(h)
        if rc < 0 {
            let msg = String(cString: pcap_geterr(h))
            pcap_close(h)
            throw VigilError.io("cannot capture (\(rc)): \(msg). Capturing needs root or CAP_NET_RAW.", file: interface)
        }
        handle = h
        linkType = LinkType(rawValue: pcap_datalink(h))
        if let filter {
            var program = bpf_program()
            if pcap_compile(h, &program, filter, 1, PCAP_NETMASK_UNKNOWN) != 0 {
                let msg = String(cString: pcap_geterr(h))
                pcap_close(h)
                throw VigilError.badInput("BPF filter does not compile: \(msg)", field: "filter")
            }
            defer { pcap_freecode(&program) }
            if pcap_setfilter(h, &program) != 0 {
                let msg = String(cString: pcap_geterr(h))
                pcap_close(h)
                throw VigilError.io("cannot set filter: \(msg)", file: interface)
            }
        }
        if !linkType.isSupported {
            pcap_close(h)
            throw VigilError.unsupported("link-layer type \(linkType) is not decoded", file: interface)
        }
        // Non-blocking reads and our own poll() timeout: a quiet link must not block the
        // loop (libpcap's read timeout does not fire when no packet ever arrives).
        pcap_setnonblock(h, 1, &err)
        fd = pcap_get_selectable_fd(h)
    }

    private var fd: Int32 = -1

    deinit { pcap_close(handle) }

    public func stop() { stopped.store(true, ordering: .relaxed) }

    /// Packets the kernel or libpcap dropped: (received, dropped, interface-dropped).
    public func drops() -> (UInt32, UInt32, UInt32) {
        var s = pcap_stat()
        guard pcap_stats(handle, &s) == 0 else { return (0, 0, 0) }
        return (s.ps_recv, s.ps_drop, s.ps_ifdrop)
    }

    public func next() throws -> (UnsafeRawBufferPointer, Timestamp, LinkType)? {
        while !stopped.load(ordering: .relaxed) {
            if let limit, packets >= limit { return nil }
            if let deadline, ContinuousClock.now >= deadline { return nil }
            var header: UnsafeMutablePointer<pcap_pkthdr>? = nil
            var data: UnsafePointer<UInt8>? = nil
            let r = pcap_next_ex(handle, &header, &data)
            if r == 1, let h = header?.pointee, let d = data {
                packets &+= 1
                let ts = Timestamp(seconds: Int64(h.ts.tv_sec), nanoseconds: Int64(h.ts.tv_usec))
                return (UnsafeRawBufferPointer(start: d, count: Int(h.caplen)), ts, linkType)
            }
            if r == 0 {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, 100) == 0 { onIdle?() }
                continue
            }
            if r == -2 { return nil }
            throw VigilError.io("capture failed: \(String(cString: pcap_geterr(handle)))", file: name)
        }
        return nil
    }
}

/// Writes packets to a pcap file through libpcap (nanosecond timestamps).
public final class PcapWriter {
    private let dead: OpaquePointer
    private let dumper: OpaquePointer
    public let path: String

    public init(path: String, linkType: LinkType = .ethernet, snaplen: Int32 = 262_144) throws {
        self.path = path
        guard let d = pcap_open_dead_with_tstamp_precision(linkType.rawValue, snaplen, UInt32(PCAP_TSTAMP_PRECISION_NANO)) else {
            throw VigilError.io("libpcap cannot make a writer", file: path)
        }
        guard let w = pcap_dump_open(d, path) else {
            let msg = String(cString: pcap_geterr(d))
            pcap_close(d)
            throw VigilError.io("cannot create capture: \(msg)", file: path)
        }
        dead = d
        dumper = w
    }

    public func write(_ packet: UnsafeRawBufferPointer, at ts: Timestamp) {
        var h = pcap_pkthdr()
        h.ts.tv_sec = Int(ts.nanoseconds / 1_000_000_000)
        h.ts.tv_usec = Int(ts.nanoseconds % 1_000_000_000)
        h.caplen = UInt32(packet.count)
        h.len = UInt32(packet.count)
        guard let base = packet.baseAddress else { return }
        withUnsafePointer(to: &h) { hp in
            pcap_dump(UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), hp, base.assumingMemoryBound(to: UInt8.self))
        }
    }

    public func close() {
        pcap_dump_flush(dumper)
    }

    deinit {
        pcap_dump_close(dumper)
        pcap_close(dead)
    }
}
