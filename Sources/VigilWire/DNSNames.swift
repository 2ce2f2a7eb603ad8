/// Names Zeek's dns.log gives to classes, types and response codes.
enum DNSNames {
    static func className(_ c: UInt16) -> String {
        switch c {
        case 1: "C_INTERNET"
        case 3: "C_CHAOS"
        case 4: "C_HESIOD"
        case 254: "C_NONE"
        case 255: "C_ANY"
        default: c & 0x8000 != 0 && c & 0x7FFF == 1 ? "C_INTERNET" : "unknown-\(c)"
        }
    }

    static let types: [UInt16: String] = [
        1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 10: "NULL", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT",
        17: "RP", 24: "SIG", 25: "KEY", 28: "AAAA", 29: "LOC", 32: "NB", 33: "SRV", 35: "NAPTR", 37: "CERT",
        39: "DNAME", 41: "OPT", 43: "DS", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 50: "NSEC3", 51: "NSEC3PARAM",
        52: "TLSA", 59: "CDS", 60: "CDNSKEY", 64: "SVCB", 65: "HTTPS", 99: "SPF", 249: "TKEY", 250: "TSIG",
        251: "IXFR", 252: "AXFR", 255: "*", 256: "URI", 257: "CAA",
    ]

    static func typeName(_ t: UInt16) -> String { types[t] ?? "unknown-\(t)" }

    static func rcodeName(_ r: UInt16) -> String {
        switch r {
        case 0: "NOERROR"
        case 1: "FORMERR"
        case 2: "SERVFAIL"
        case 3: "NXDOMAIN"
        case 4: "NOTIMP"
        case 5: "REFUSED"
        case 6: "YXDOMAIN"
        case 7: "YXRRSET"
        case 8: "NXRRSET"
        case 9: "NOTAUTH"
        case 10: "NOTZONE"
        default: "unknown-\(r)"
        }
    }
}
