import VigilCore

/// One value of a Zeek log row as read: unset ("-"), text, or a set/vector.
public enum ZeekCell: Hashable, Sendable {
    case unset
    case text(String)
    case list([String])

    var textValue: String? {
        switch self {
        case .unset: nil
        case .text(let s): s
        case .list(let l): l.joined(separator: ",")
        }
    }
}

/// A column of a Zeek log: its name and Zeek type (`time`, `addr`, `count`, `set[string]` …).
public struct ZeekColumn: Hashable, Sendable {
    public var name: String
    public var type: String
    public init(_ name: String, _ type: String) { self.name = name; self.type = type }
    var isContainer: Bool { type.hasPrefix("set[") || type.hasPrefix("vector[") }
    var elementType: String {
        guard let open = type.firstIndex(of: "["), type.hasSuffix("]") else { return type }
        return String(type[type.index(after: open)..<type.index(before: type.endIndex)])
    }
}

/// A row read from a Zeek log, by field name, with where it came from for error messages.
public struct ZeekRow: Sendable {
    public var cells: [String: ZeekCell]
    public var file: String
    public var line: Int

    public init(cells: [String: ZeekCell], file: String, line: Int) {
        self.cells = cells; self.file = file; self.line = line
    }

    func fail(_ field: String, _ why: String) -> VigilError {
        .badInput(why, file: file, line: line, field: field)
    }

    func text(_ f: String) -> String? { cells[f]?.textValue }

    func list(_ f: String) -> [String] {
        switch cells[f] {
        case .list(let l): l
        case .text(let s): s.isEmpty ? [] : s.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        default: []
        }
    }

    func required(_ f: String) throws -> String {
        guard let v = text(f) else { throw fail(f, "missing required field") }
        return v
    }

    func time(_ f: String) throws -> Timestamp {
        let s = try required(f)
        guard let t = ZeekNumber.timestamp(s) else { throw fail(f, "not a time: \(s.prefix(40))") }
        return t
    }

    func interval(_ f: String) throws -> Duration? {
        guard let s = text(f) else { return nil }
        guard let t = ZeekNumber.timestamp(s) else { throw fail(f, "not an interval: \(s.prefix(40))") }
        return Duration(nanoseconds: t.nanoseconds)
    }

    func count(_ f: String) throws -> UInt64? {
        guard let s = text(f) else { return nil }
        if let v = UInt64(s) { return v }
        // JSON writers sometimes emit counts as floats ("600.0").
        if let d = Double(s), d >= 0, d < 1.8e19, d == d.rounded() { return UInt64(d) }
        throw fail(f, "not a count: \(s.prefix(40))")
    }

    func port(_ f: String) throws -> UInt16 {
        let s = try required(f)
        guard let v = UInt16(s) else { throw fail(f, "not a port: \(s.prefix(40))") }
        return v
    }

    func addr(_ f: String) throws -> IPAddress {
        let s = try required(f)
        guard let a = IPAddress(s) else { throw fail(f, "not an address: \(s.prefix(60))") }
        return a
    }

    func optionalAddr(_ f: String) throws -> IPAddress? {
        guard let s = text(f) else { return nil }
        guard let a = IPAddress(s) else { throw fail(f, "not an address: \(s.prefix(60))") }
        return a
    }

    func mac(_ f: String) throws -> MACAddress? {
        guard let s = text(f) else { return nil }
        guard let m = MACAddress(s) else { throw fail(f, "not a MAC address: \(s.prefix(40))") }
        return m
    }

    func bool(_ f: String) throws -> Bool? {
        guard let s = text(f) else { return nil }
        switch s {
        case "T", "true": return true
        case "F", "false": return false
        default: throw fail(f, "not a bool: \(s.prefix(20))")
        }
    }

    func connectionID(proto fallback: IPProtocol? = nil) throws -> ConnectionID {
        var proto = fallback ?? .tcp
        if let p = text("proto") {
            guard let v = IPProtocol(zeekName: p) else { throw fail("proto", "unknown transport: \(p.prefix(20))") }
            proto = v
        }
        return ConnectionID(origHost: try addr("id.orig_h"), origPort: try port("id.orig_p"),
                            respHost: try addr("id.resp_h"), respPort: try port("id.resp_p"), proto: proto)
    }

    /// Fields not in `known`, kept as text so that writing the record back loses nothing.
    func extras(excluding known: Set<String>) -> ExtraFields {
        var out: ExtraFields = [:]
        for (k, v) in cells where !known.contains(k) {
            if let t = v.textValue { out[k] = t }
        }
        return out
    }
}

/// Exact decimal handling of Zeek's fixed-point times and intervals.
public enum ZeekNumber {
    /// "1713567603.318246" (or "-0.5", "3e2") to nanoseconds, rounded to the microsecond:
    /// Zeek's logs carry microseconds, so a value read from JSON (which may print more
    /// digits) and written back as TSV stays the same value.
    static func timestamp(_ s: String) -> Timestamp? {
        var utf = Substring(s)
        var negative = false
        if utf.first == "-" { negative = true; utf = utf.dropFirst() }
        let parts = utf.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count >= 1, let whole = Int64(parts[0].isEmpty ? "0" : parts[0]) {
            var micros: Int64 = 0
            if parts.count == 2 {
                let frac = parts[1]
                guard !frac.isEmpty, frac.allSatisfy({ $0.isASCII && $0.isNumber }) else { return fallback(s) }
                var digits = Array(frac.prefix(7))
                while digits.count < 7 { digits.append("0") }
                let seven = Int64(String(digits)) ?? 0
                micros = (seven + 5) / 10
            }
            let total = whole &* 1_000_000_000 &+ micros &* 1000
            return Timestamp(nanoseconds: negative ? -total : total)
        }
        return fallback(s)
    }

    private static func fallback(_ s: String) -> Timestamp? {
        guard let d = Double(s), d.isFinite, abs(d) < 9e9 else { return nil }
        return Timestamp(nanoseconds: Int64((d * 1e6).rounded()) &* 1000)
    }

    /// Zeek's `%.6f`: seconds with six decimals, from nanoseconds (rounded to the microsecond).
    public static func fixed6(_ nanos: Int64) -> String {
        var n = nanos
        let neg = n < 0
        if neg { n = -n }
        let micros = (n + 500) / 1000
        let secs = micros / 1_000_000
        let frac = String(micros % 1_000_000)
        return (neg ? "-" : "") + String(secs) + "." + String(repeating: "0", count: 6 - frac.count) + frac
    }
}

/// A record kind that has a Zeek log.
public protocol ZeekLoggable {
    static var zeekPath: String { get }
    /// Zeek's standard columns for this log, in Zeek's order, and Vigil's own additions.
    static var zeekColumns: [ZeekColumn] { get }
    /// Column names this type models; others are kept in `extra`.
    static var modeledColumns: Set<String> { get }
    /// Writes the standard columns, in `zeekColumns` order; unmodeled ones via `fromExtra()`.
    func writeZeek(_ w: inout ZeekRowWriter)
    var extra: ExtraFields { get }
    init(zeek row: ZeekRow) throws
}

extension ZeekLoggable {
    static func idColumns() -> [ZeekColumn] {
        [.init("ts", "time"), .init("uid", "string"), .init("id.orig_h", "addr"), .init("id.orig_p", "port"),
         .init("id.resp_h", "addr"), .init("id.resp_p", "port")]
    }
}

