import CJansson
import Foundation

/// A JSON value as MCP carries it. Parsed by jansson (Debian's libjansson: fast, strict, refuses
/// duplicate keys, which a gateway must, since a server reading the other copy would see another call);
/// written by `canonical` (RFC 8785 order: for hashing pins and for the wire).
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var object: [String: JSONValue]? { if case .object(let o) = self { return o }; return nil }
    public var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var number: Double? {
        switch self { case .int(let i): return Double(i); case .double(let d): return d; default: return nil }
    }
    public var int: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9e15: return Int64(d)
        default: return nil
        }
    }

    /// Parses one JSON text. Throws `MCPError.parse` with the decoder's reason.
    public static func parse(_ data: Data) throws -> JSONValue {
        try data.withUnsafeBytes { try parse(bytes: $0) }
    }

    /// Parses one JSON text held in memory, without copying it first.
    public static func parse(bytes b: UnsafeRawBufferPointer) throws -> JSONValue {
        var error = json_error_t()
        let root = json_loadb(b.baseAddress?.assumingMemoryBound(to: CChar.self), b.count, size_t(vigil_json_flags()), &error)
        if let root {
            defer { vigil_json_release(root) }
            return from(root, depth: 0)
        }
        let why = withUnsafeBytes(of: error.text) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        // Integers beyond 64 bits are valid JSON that jansson will not hold; Foundation reads those.
        guard why.contains("too big") else {
            throw MCPError.parse("not JSON: \(why) at byte \(error.position)")
        }
        return try parseWithFoundation(Data(b))
    }

    /// A tree from jansson. Nesting deeper than 512 is cut (jansson itself stops at 2048).
    static func from(_ j: UnsafeMutablePointer<json_t>, depth: Int) -> JSONValue {
        switch vigil_json_type(j) {
        case Int32(JSON_OBJECT.rawValue):
            var o: [String: JSONValue] = [:]
            o.reserveCapacity(json_object_size(j))
            var it = json_object_iter(j)
            while let i = it {
                if let k = json_object_iter_key(i), let v = json_object_iter_value(i) {
                    o[String(cString: k)] = depth < 512 ? from(v, depth: depth + 1) : .null
                }
                it = json_object_iter_next(j, i)
            }
            return .object(o)
        case Int32(JSON_ARRAY.rawValue):
            let n = json_array_size(j)
            var a: [JSONValue] = []
            a.reserveCapacity(n)
            for i in 0..<n { if let v = json_array_get(j, i) { a.append(depth < 512 ? from(v, depth: depth + 1) : .null) } }
            return .array(a)
        case Int32(JSON_STRING.rawValue):
            guard let p = json_string_value(j) else { return .string("") }
            let n = json_string_length(j)
            return .string(p.withMemoryRebound(to: UInt8.self, capacity: n) { String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self) })
        case Int32(JSON_INTEGER.rawValue): return .int(Int64(json_integer_value(j)))
        case Int32(JSON_REAL.rawValue): return .double(json_real_value(j))
        case Int32(JSON_TRUE.rawValue): return .bool(true)
        case Int32(JSON_FALSE.rawValue): return .bool(false)
        default: return .null
        }
    }

    static func parseWithFoundation(_ data: Data) throws -> JSONValue {
        let any: Any
        do { any = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
            throw MCPError.parse("not JSON: \(Self.reason(error))")
        }
        return from(any)
    }

    /// Foundation's objects to values. A JSON boolean arrives as an NSNumber whose type is `char`;
    /// a JSON number never does, so `true` and `1` stay apart.
    static func from(_ any: Any) -> JSONValue {
        switch any {
        case let s as String: return .string(s)
        case let n as NSNumber:
            switch n.objCType.pointee {
            case 0x63: return .bool(n.boolValue)                       // 'c'
            case 0x64, 0x66: return .double(n.doubleValue)             // 'd', 'f'
            case 0x51 where n.uint64Value > UInt64(Int64.max): return .double(n.doubleValue)   // 'Q'
            default: return .int(n.int64Value)
            }
        case let a as [Any]: return .array(a.map(from))
        case let o as [String: Any]: return .object(o.mapValues(from))
        default: return .null
        }
    }
    public static func parse(_ text: String) throws -> JSONValue {
        var t = text
        return try t.withUTF8 { try parse(bytes: UnsafeRawBufferPointer($0)) }
    }

    private static func reason(_ error: Error) -> String {
        (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error.localizedDescription)"
    }

    /// Every string inside, depth first (keys excluded): what content checks read.
    public func forEachString(_ body: (String) -> Void) {
        switch self {
        case .string(let s): body(s)
        case .array(let a): for v in a { v.forEachString(body) }
        case .object(let o): for k in o.keys.sorted() { o[k]!.forEachString(body) }
        default: break
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral {
    public init(floatLiteral v: Double) { self = .double(v) }
    public init(stringLiteral v: String) { self = .string(v) }
    public init(integerLiteral v: Int64) { self = .int(v) }
    public init(booleanLiteral v: Bool) { self = .bool(v) }
    public init(arrayLiteral v: JSONValue...) { self = .array(v) }
    public init(dictionaryLiteral v: (String, JSONValue)...) {
        self = .object(Dictionary(v, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}

// MARK: - Writing

extension JSONValue {
    /// RFC 8785 (JCS) form: one line, keys sorted by UTF-16 code units, minimal escapes, shortest
    /// numbers. What a tool pin hashes (a reordered schema is the same tool, a changed one is not),
    /// and what goes on the wire (no raw newline can appear, which stdio framing requires).
    public var canonical: String { String(decoding: canonicalBytes(), as: UTF8.self) }

    /// The canonical form as UTF-8 bytes, with `terminator` appended when given (a stdio line's newline).
    public func canonicalBytes(terminator: UInt8? = nil) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out)
        if let terminator { out.append(terminator) }
        return out
    }

    /// Written as bytes (String appends were a fifth of the gateway's time per call).
    private func write(into out: inout [UInt8]) {
        switch self {
        case .null: out += Self.nullBytes
        case .bool(let b): out += b ? Self.trueBytes : Self.falseBytes
        case .int(let i): out += String(i).utf8
        case .double(let d): out += Self.number(d).utf8
        case .string(let s): Self.quote(s, into: &out)
        case .array(let a):
            out.append(0x5B)
            for (i, v) in a.enumerated() { if i > 0 { out.append(0x2C) }; v.write(into: &out) }
            out.append(0x5D)
        case .object(let o):
            out.append(0x7B)
            if o.count < 2 {
                for (k, v) in o { Self.quote(k, into: &out); out.append(0x3A); v.write(into: &out) }
            } else {
                // Insertion sort of the keys where there are a handful (the library's stable
                // sort of (key, value) pairs was most of the writer's time); the library's sort
                // above that, so a hostile object with many keys costs n log n.
                var keys = Array(o.keys)
                if keys.count > 16 { keys.sort(by: Self.precedes) } else { for i in 1..<keys.count {
                    let k = keys[i]
                    var j = i
                    while j > 0 && Self.precedes(k, keys[j - 1]) { keys[j] = keys[j - 1]; j -= 1 }
                    keys[j] = k
                } }
                for (i, k) in keys.enumerated() {
                    if i > 0 { out.append(0x2C) }
                    Self.quote(k, into: &out); out.append(0x3A); o[k]!.write(into: &out)
                }
            }
            out.append(0x7D)
        }
    }

    /// RFC 8785 key order: by UTF-16 code units. Where the first difference is ASCII on both
    /// sides that is the UTF-8 byte order, read without decoding.
    static func precedes(_ a: String, _ b: String) -> Bool {
        let fast: Bool?? = a.utf8.withContiguousStorageIfAvailable { x -> Bool? in
            b.utf8.withContiguousStorageIfAvailable { y -> Bool? in
                let n = min(x.count, y.count)
                var i = 0
                while i < n && x[i] == y[i] { i += 1 }
                if i == n { return x.count < y.count }
                return x[i] < 0x80 && y[i] < 0x80 ? x[i] < y[i] : nil
            } ?? nil
        }
        if case let r?? = fast { return r }
        return a.utf16.lexicographicallyPrecedes(b.utf16)
    }

    private static let nullBytes = Array("null".utf8), trueBytes = Array("true".utf8), falseBytes = Array("false".utf8)

    static func number(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }

    static func quote(_ s: String, into out: inout [UInt8]) {
        out.append(0x22)
        var s = s
        s.withUTF8 { u in
            // Runs that need no escape are copied whole; escapes only where JSON needs them.
            var run = 0
            for i in 0..<u.count {
                let b = u[i]
                guard b < 0x20 || b == 0x22 || b == 0x5C else { continue }
                if run < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: u[run..<i])) }
                run = i + 1
                out.append(0x5C)
                switch b {
                case 0x22, 0x5C: out.append(b)
                case 0x0A: out.append(0x6E)
                case 0x0D: out.append(0x72)
                case 0x09: out.append(0x74)
                case 0x08: out.append(0x62)
                case 0x0C: out.append(0x66)
                default:
                    out.append(0x75); out.append(0x30); out.append(0x30)
                    out.append(hexDigit(b >> 4)); out.append(hexDigit(b & 15))
                }
            }
            if run < u.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: u[run..<u.count])) }
        }
        out.append(0x22)
    }

    private static func hexDigit(_ n: UInt8) -> UInt8 { n < 10 ? 0x30 + n : 0x57 + n }
}
