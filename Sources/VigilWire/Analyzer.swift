import VigilCore

/// What an application analyzer knows of the connection it is attached to.
/// A plain value: the uid string is made only when a record is.
public struct FlowInfo: Sendable {
    public var uidBits: (UInt64, UInt32)
    public var id: ConnectionID
    public var uid: String { ZeekUID.format(uidBits) }
}

/// Where analyzers put what they found.
public struct AnalyzerOutput {
    public var observations: [Observation] = []
    public var parseErrors: UInt64 = 0
    let shared: SharedAnalyzerState
}

/// State shared by analyzers across connections (DHCP transactions span several flows).
public final class SharedAnalyzerState {
    // Owned by one engine on one thread: no dynamic exclusivity checks.
    @exclusivity(unchecked) var dhcp: DHCPAggregator
    /// Fingerprints of hellos already seen: a client sends the same lists every time, so the
    /// hashing is done once per distinct hello (bounded; emptied when full).
    @exclusivity(unchecked) var fingerprints: [JA4.Key: String] = [:]
    static let maxFingerprints = 4096
    init(configuration: WireConfiguration) {
        dhcp = DHCPAggregator(capacity: configuration.maxDHCPTransactions)
    }

    func fingerprint(_ key: JA4.Key, _ make: () -> String) -> String {
        if let f = fingerprints[key] { return f }
        if fingerprints.count >= Self.maxFingerprints { fingerprints.removeAll(keepingCapacity: true) }
        let f = make()
        fingerprints[key] = f
        return f
    }
}

/// An application-layer analyzer attached to one connection. TCP analyzers get the in-order
/// byte stream of each direction; UDP analyzers get one datagram at a time.
/// Subclasses are `final`; one file each, registered in `AnalyzerRegistry.all`.
open class StreamAnalyzer {
    public init() {}
    /// Bytes (TCP: next in-order bytes; UDP: one datagram) from the originator or responder.
    open func feed(_ data: UnsafeRawBufferPointer, fromOrig: Bool, at time: Timestamp, flow: FlowInfo, into out: inout AnalyzerOutput) {}
    /// Bytes were lost in this direction; stream analyzers usually stop.
    open func gap(fromOrig: Bool) {}
    /// The connection ended: flush what is pending.
    open func finish(at time: Timestamp, flow: FlowInfo, into out: inout AnalyzerOutput) {}
    /// True once the analyzer needs no more bytes (it will still get `finish`).
    open var isDone: Bool { false }
}

/// One analyzer's registration: which service it names, what transport it reads, how it
/// recognises its protocol from the first payload of a direction (content, not ports), and
/// how to make one.
public struct AnalyzerRegistration: Sendable {
    public var service: String
    public var proto: IPProtocol
    public var detect: @Sendable (_ payload: UnsafeRawBufferPointer, _ fromOrig: Bool, _ origPort: UInt16, _ respPort: UInt16) -> Bool
    public var make: @Sendable () -> StreamAnalyzer
}

public enum AnalyzerRegistry {
    /// Every application analyzer, tried in this order on a connection's first payload.
    public static let all: [AnalyzerRegistration] = [
        TLSAnalyzer.registration,
        SSHAnalyzer.registration,
        HTTPAnalyzer.registration,
        DNSAnalyzer.tcpRegistration,
        DNSAnalyzer.udpRegistration,
        DHCPAnalyzer.registration,
    ]

    /// Service names, in the bit order a flow records them.
    static let serviceNames: [String] = {
        var names: [String] = []
        for r in all where !names.contains(r.service) { names.append(r.service) }
        return names
    }()

    /// Each registration's service bit, in the order of `all`.
    static let serviceBits: [UInt16] = all.map { r in UInt16(1) << UInt16(serviceNames.firstIndex(of: r.service)!) }

    /// The service list of every combination of service bits, made once: a connection's
    /// record shares one instead of building its own.
    static let serviceLists: [[String]] = (0..<(1 << serviceNames.count)).map { bits in
        serviceNames.enumerated().filter { bits & (1 << $0.offset) != 0 }.map(\.element)
    }
}

/// Zeek-style connection uids: "C" and 96 random bits in base 62.
public enum ZeekUID {
    static let alphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    public static func format(_ bits: (UInt64, UInt32)) -> String {
        // 96 bits need at most 17 base-62 digits; build them from the right.
        var hi = bits.0, lo = UInt64(bits.1)
        let digits: StaticString = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
        return withUnsafeMutableBytes(of: &tmp) { buf in
            var k = 24
            repeat {
                let (qh, rh) = hi.quotientAndRemainder(dividingBy: 62)
                let (ql, rl) = (rh << 32 | lo).quotientAndRemainder(dividingBy: 62)
                hi = qh; lo = ql
                k -= 1
                buf[k] = digits.utf8Start[Int(rl)]
            } while hi != 0 || lo != 0
            k -= 1
            buf[k] = UInt8(ascii: "C")
            return String(decoding: UnsafeRawBufferPointer(rebasing: buf[k...]), as: UTF8.self)
        }
    }
}

/// How the wire stage behaves. Defaults follow Zeek's.
public struct WireConfiguration: Sendable {
    public var maxFlows: Int = 1_000_000
    public var tcpInactivity: Duration = .seconds(300)
    public var udpInactivity: Duration = .seconds(60)
    public var icmpInactivity: Duration = .seconds(60)
    /// Connection attempts and closed connections linger this long (Zeek's tcp_close_delay).
    public var closeDelay: Duration = .seconds(5)
    public var maxPendingFragments: Int = 4096
    public var fragmentTimeout: Duration = .seconds(30)
    public var maxDHCPTransactions: Int = 4096
    /// Bytes of each direction's stream given to analyzers before they are cut off.
    public var maxAnalyzedBytesPerDirection: Int = 64 << 20
    public var uidSeed: UInt64 = 0x5649_4749_4C00_0001
    /// Keys the flow table's hash so that chosen addresses cannot pile into one bucket.
    /// Output never depends on it.
    public var hashSeed: UInt64 = UInt64.random(in: .min ... .max)
    /// The monitored site, for conn.log's local_orig / local_resp.
    public var localNetworks: [CIDR] = CIDR.privateBlocks
    public init() {}
}
