/// The link-layer header type of a capture (libpcap's DLT / LINKTYPE values).
public struct LinkType: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public static let null = LinkType(rawValue: 0)          // BSD loopback: 4-byte host-order family
    public static let ethernet = LinkType(rawValue: 1)
    public static let rawDLT12 = LinkType(rawValue: 12)     // DLT_RAW on Linux/most BSDs
    public static let rawDLT14 = LinkType(rawValue: 14)     // DLT_RAW on OpenBSD
    public static let raw = LinkType(rawValue: 101)         // LINKTYPE_RAW
    public static let loop = LinkType(rawValue: 108)        // OpenBSD loopback: network-order family
    public static let linuxSLL = LinkType(rawValue: 113)
    public static let ipv4 = LinkType(rawValue: 228)
    public static let ipv6 = LinkType(rawValue: 229)
    public static let linuxSLL2 = LinkType(rawValue: 276)

    public var isSupported: Bool {
        [0, 1, 12, 14, 101, 108, 113, 228, 229, 276].contains(rawValue)
    }

    public var description: String {
        switch rawValue {
        case 0: "NULL"
        case 1: "EN10MB"
        case 12, 14, 101: "RAW"
        case 108: "LOOP"
        case 113: "LINUX_SLL"
        case 228: "IPV4"
        case 229: "IPV6"
        case 276: "LINUX_SLL2"
        default: "DLT \(rawValue)"
        }
    }
}
