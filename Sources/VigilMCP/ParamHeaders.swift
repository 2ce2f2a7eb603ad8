/// `Mcp-Param-*` headers (2026-07-28 Streamable HTTP): a tool's input schema may mark scalar
/// properties with `x-mcp-header: TOKEN`, and a client then mirrors each such argument into an
/// `Mcp-Param-TOKEN` header so intermediaries can route on it. A header that disagrees with the
/// body is a parser differential between whoever routes on the header and the server that acts
/// on the body, so the gateway refuses it (-32020, 400) as the SDK's servers do.
public enum ParamHeaders {
    public static let prefix = "mcp-param-"

    /// A marked property: its path of `properties` keys from the schema's root, the header
    /// token, and its declared type.
    struct Mark { var path: [String]; var token: String; var type: String }

    /// Marks reachable through `properties` chains only (as clients find them); nil when any
    /// mark is invalid (a non-token name, a type other than string/integer/boolean, or two
    /// marks naming one header), since conforming clients then send no headers for the tool.
    static func marks(_ schema: JSONValue) -> [Mark]? {
        var out: [Mark] = [], stack: [([String], JSONValue)] = [([], schema)], seen: Set<String> = []
        while let (path, node) = stack.popLast() {
            guard case .object(let o) = node else { continue }
            if !path.isEmpty, let mark = o["x-mcp-header"] {
                guard let token = mark.string, !token.isEmpty, token.utf8.allSatisfy(isTokenByte),
                      let type = o["type"]?.string, ["string", "integer", "boolean"].contains(type),
                      seen.insert(token.lowercased()).inserted else { return nil }
                out.append(Mark(path: path, token: token, type: type))
            }
            if case .object(let props)? = o["properties"] {
                for (k, v) in props { stack.append((path + [k], v)) }
            }
        }
        return out
    }

    /// RFC 9110 token characters.
    static func isTokenByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || "!#$%&'*+-.^_`|~".utf8.contains(b)
    }

    /// Why the `Mcp-Param-*` headers of a `tools/call` disagree with its arguments, or nil when
    /// they agree. `header` looks a header up by lower-cased name; `repeated` names headers
    /// given more than once; `decode` undoes the `=?base64?...?=` form (nil when malformed).
    public static func mismatch(schema: JSONValue, arguments: JSONValue?, header: (String) -> String?, repeated: Set<String>,
                                decode: (String) -> String?) -> String? {
        guard let marks = marks(schema) else { return nil }
        for m in marks {
            let name = "Mcp-Param-\(m.token)", key = prefix + m.token.lowercased()
            let raw = header(key)
            if raw != nil && repeated.contains(key) { return "\(name) header appears more than once" }
            var value = arguments
            for k in m.path { value = value?[k] }
            let argument = m.path.joined(separator: ".")
            guard let value, value != .null else {
                if raw != nil { return "\(name) header is present but the request body's '\(argument)' argument is absent" }
                continue
            }
            guard let rendered = render(value) else {
                if raw != nil { return "\(name) header does not match the request body's '\(argument)' argument" }
                continue
            }
            guard let raw else { return "\(name) header is missing but the request body's '\(argument)' argument is present" }
            guard let decoded = decode(raw) else { return "\(name) header carries a malformed base64 sentinel value" }
            if !matches(type: m.type, value: value, rendered: rendered, decoded: decoded) {
                return "\(name) header does not match the request body's '\(argument)' argument"
            }
        }
        return nil
    }

    /// How a client renders an argument into a header: booleans as true/false, other scalars
    /// as text; objects, arrays and null have no rendering.
    static func render(_ v: JSONValue) -> String? {
        switch v {
        case .bool(let b): b ? "true" : "false"
        case .string(let s): s
        case .int(let i): String(i)
        case .double(let d): d.isFinite ? (d == d.rounded() && abs(d) < 1e16 ? String(format: "%.1f", d) : String(d)) : nil
        default: nil
        }
    }

    /// Integer properties compare numerically for plain decimal headers (42 matches 42.0);
    /// everything else compares as rendered.
    static func matches(type: String, value: JSONValue, rendered: String, decoded: String) -> Bool {
        if type == "integer", let whole = integral(value), let header = plainDecimal(decoded) { return header == whole }
        return decoded == rendered
    }

    static func integral(_ v: JSONValue) -> String? {
        switch v {
        case .int(let i): String(i)
        case .double(let d) where d.isFinite && d == d.rounded() && abs(d) < 9.0e15: String(Int64(d))
        default: nil
        }
    }

    /// "-42", "42.000" -> "-42", "42"; nil for anything else (fractions, exponents, signs other than -).
    static func plainDecimal(_ s: String) -> String? {
        var body = Substring(s), negative = false
        if body.first == "-" { negative = true; body = body.dropFirst() }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].allSatisfy(\.isASCII), parts[0].allSatisfy(\.isNumber) else { return nil }
        if parts.count == 2 { guard !parts[1].isEmpty, parts[1].allSatisfy({ $0 == "0" }) else { return nil } }
        var digits = parts[0].drop { $0 == "0" }
        if digits.isEmpty { digits = "0" }
        return (negative && digits != "0" ? "-" : "") + digits
    }
}
