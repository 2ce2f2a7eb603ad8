/// What the "See" stage hands to the learner: one typed record, emitted when it became known.
///
/// Observations leave a source in the order they were completed in observation time
/// (a connection when it ends or times out, a DNS record when its answer arrives), so the
/// stream is monotonic in `observedAt`; each record also keeps its own start time `ts`.
public enum Observation: Hashable, Sendable, Codable {
    case conn(ConnRecord)
    case dns(DNSRecord)
    case http(HTTPRecord)
    case tls(TLSRecord)
    case ssh(SSHRecord)
    case dhcp(DHCPRecord)

    /// The record's start time, as the Zeek `ts` column gives it.
    public var ts: Timestamp {
        switch self {
        case .conn(let r): r.ts
        case .dns(let r): r.ts
        case .http(let r): r.ts
        case .tls(let r): r.ts
        case .ssh(let r): r.ts
        case .dhcp(let r): r.ts
        }
    }

    /// The Zeek log this record belongs in.
    public var kind: ObservationKind {
        switch self {
        case .conn: .conn
        case .dns: .dns
        case .http: .http
        case .tls: .ssl
        case .ssh: .ssh
        case .dhcp: .dhcp
        }
    }
}

/// The kinds of observation, named as Zeek names their logs.
public enum ObservationKind: String, CaseIterable, Hashable, Sendable, Codable {
    case conn, dns, http, ssl, ssh, dhcp

    /// The kind's position in `allCases`, for tables indexed by kind without hashing.
    @inlinable public var ordinal: Int {
        switch self {
        case .conn: 0
        case .dns: 1
        case .http: 2
        case .ssl: 3
        case .ssh: 4
        case .dhcp: 5
        }
    }
}

/// A consumer of observations: the log writer, the store, later the learner.
public protocol ObservationSink {
    mutating func consume(_ observation: Observation) throws
}
