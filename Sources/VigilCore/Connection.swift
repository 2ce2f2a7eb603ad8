/// IP protocol number (6 = TCP, 17 = UDP, 1 = ICMP, 58 = ICMPv6).
public struct IPProtocol: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let icmp = IPProtocol(rawValue: 1)
    public static let tcp = IPProtocol(rawValue: 6)
    public static let udp = IPProtocol(rawValue: 17)
    public static let icmp6 = IPProtocol(rawValue: 58)

    /// Zeek's `proto` enum: tcp, udp, icmp, or unknown_transport.
    public var description: String {
        switch self {
        case .tcp: "tcp"
        case .udp: "udp"
        case .icmp, .icmp6: "icmp"
        default: "unknown_transport"
        }
    }

    public init?(zeekName: some StringProtocol) {
        switch zeekName {
        case "tcp": self = .tcp
        case "udp": self = .udp
        case "icmp": self = .icmp
        case "unknown_transport": self = IPProtocol(rawValue: 0)
        default: return nil
        }
    }
}

/// A connection's 5-tuple from the originator's point of view (Zeek's `conn_id`).
/// For ICMP, `origPort` is the type and `respPort` the code, as in Zeek.
public struct ConnectionID: Hashable, Sendable, Codable {
    public var origHost: IPAddress
    public var origPort: UInt16
    public var respHost: IPAddress
    public var respPort: UInt16
    public var proto: IPProtocol

    public init(origHost: IPAddress, origPort: UInt16, respHost: IPAddress, respPort: UInt16, proto: IPProtocol) {
        self.origHost = origHost
        self.origPort = origPort
        self.respHost = respHost
        self.respPort = respPort
        self.proto = proto
    }
}

/// Fields a Zeek log carried that Vigil has no typed place for (`_node_name`, `label`, …),
/// kept by name so that reading and writing a log loses nothing.
public typealias ExtraFields = [String: String]
