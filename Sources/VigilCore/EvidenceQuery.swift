/// Traffic between a device and a peer (or any peer) over a period, as stored.
public struct TrafficSummary: Sendable, Hashable {
    public var connections: Int
    public var bytesOut: UInt64
    public var bytesIn: UInt64
    public var first: Timestamp?
    public var last: Timestamp?
    /// True when the endpoint is a name never resolved to an address the device reached: the
    /// counts are then DNS lookups of it (a tunnel's traffic), not connections.
    public var lookupsOnly: Bool
    public init(connections: Int = 0, bytesOut: UInt64 = 0, bytesIn: UInt64 = 0, first: Timestamp? = nil, last: Timestamp? = nil, lookupsOnly: Bool = false) {
        self.connections = connections; self.bytesOut = bytesOut; self.bytesIn = bytesIn; self.first = first; self.last = last
        self.lookupsOnly = lookupsOnly
    }
}

/// Connections from a device to one peer on one port over a period, as stored.
public struct PeerContact: Sendable, Hashable {
    public var peer: String
    public var port: UInt16
    public var connections: Int
    /// Connections the peer answered (a completed or reset-after-answer handshake).
    public var answered: Int
    public var first: Timestamp
    public init(peer: String, port: UInt16, connections: Int, answered: Int, first: Timestamp) {
        self.peer = peer; self.port = port; self.connections = connections; self.answered = answered; self.first = first
    }
}

/// What the network's DNS says about a domain (and the names under it) up to a time.
public struct DNSHistory: Sendable, Hashable {
    public var lookups: Int
    public var devices: Int
    public var first: Timestamp?
    /// Addresses it resolved to (a few).
    public var answers: [String]
    public init(lookups: Int = 0, devices: Int = 0, first: Timestamp? = nil, answers: [String] = []) {
        self.lookups = lookups; self.devices = devices; self.first = first; self.answers = answers
    }
}

/// The follow-up questions the analyst asks of stored observations. The store implements
/// it (`SQLiteStore`); the analyst stays pure and only sees answers.
public protocol EvidenceQuery {
    /// Internal devices that exchanged traffic with an external endpoint (an address, or a
    /// domain looked up, named in TLS or in an HTTP Host) between two times.
    func devicesContacting(_ endpoint: String, from: Timestamp, to: Timestamp, limit: Int) throws -> [String]
    /// Connections from a device to an endpoint (address or domain; nil for any) in a period.
    func traffic(device: String, endpoint: String?, from: Timestamp, to: Timestamp) throws -> TrafficSummary
    /// The latest observation time stored, so "is it still going" knows where the data ends.
    func lastObservationTime() throws -> Timestamp?
    /// Peers a device opened connections to on any of `ports` in a period, most used first.
    func contacts(device: String, ports: [UInt16], from: Timestamp, to: Timestamp, limit: Int) throws -> [PeerContact]
    /// Lookups of a domain and the names under it, from the start of the data up to `to`.
    func dnsHistory(_ domain: String, to: Timestamp) throws -> DNSHistory
}
