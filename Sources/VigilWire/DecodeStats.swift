/// What the engine saw, counted by what it could and could not decode. Nothing is dropped
/// silently: every packet lands in exactly one of `decoded` or a `skipped…` counter.
public struct DecodeStats: Hashable, Sendable, Codable {
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    public var decoded: UInt64 = 0
    public var ipv4: UInt64 = 0
    public var ipv6: UInt64 = 0
    public var arp: UInt64 = 0
    public var tcp: UInt64 = 0
    public var udp: UInt64 = 0
    public var icmp: UInt64 = 0
    public var otherIP: UInt64 = 0
    public var fragments: UInt64 = 0
    public var reassembled: UInt64 = 0
    public var skippedUnknownLink: UInt64 = 0
    public var skippedNonIP: UInt64 = 0
    public var skippedTruncated: UInt64 = 0
    public var skippedMalformed: UInt64 = 0
    public var skippedFragmentsIncomplete: UInt64 = 0
    public var flowsCreated: UInt64 = 0
    public var flowsEvicted: UInt64 = 0
    public var fragmentsEvicted: UInt64 = 0
    public var appParseErrors: UInt64 = 0
    public var dnsRecords: UInt64 = 0
    public var httpRecords: UInt64 = 0
    public var tlsRecords: UInt64 = 0
    public var sshRecords: UInt64 = 0
    public var dhcpRecords: UInt64 = 0
    public var connRecords: UInt64 = 0

    public init() {}

    public var skipped: UInt64 {
        skippedUnknownLink + skippedNonIP + skippedTruncated + skippedMalformed
    }
}
