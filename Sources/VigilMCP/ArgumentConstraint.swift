import Foundation

/// What one tool argument may be. All the kinds a rule names must hold.
public struct ArgumentConstraint: Sendable, Hashable {
    /// A path that, once `.` and `..` are resolved, lies under one of these roots.
    public var pathUnder: [String] = []
    /// A URL whose scheme is http(s) and whose host is one of these (".example.com" allows subdomains).
    public var urlHosts: [String] = []
    /// A regular expression the whole string must match (compiled once, when the policy is read).
    public var pattern: String? { compiled?.source }
    var compiled: CompiledPattern?
    /// One of these exact values.
    public var oneOf: [JSONValue] = []
    /// The argument written as JSON is at most this many bytes.
    public var maxBytes: Int?
    /// A number at most this.
    public var max: Double?
    /// The argument must be present.
    public var required = false

    static func parse(_ v: JSONValue, at p: String, reader r: inout Reader) throws -> ArgumentConstraint {
        let o = try r.object(v, at: p, allowed: ["path_under", "url_hosts", "pattern", "one_of", "max_bytes", "max", "required"])
        var c = ArgumentConstraint()
        if let x = o["path_under"] { c.pathUnder = try r.strings(x.array == nil ? [x] : x, at: p + ".path_under") }
        if let x = o["url_hosts"] { c.urlHosts = try r.strings(x, at: p + ".url_hosts").map { $0.lowercased() } }
        if let x = o["pattern"] {
            let s = try r.string(x, at: p + ".pattern")
            // The whole value, with nothing after it: a `$` would also pass "main\n" through [a-z]+.
            let re: Pattern
            do { re = try Pattern(s, whole: true) } catch {
                throw MCPError.policy("not a regular expression: \(s) (\(error))", place: p + ".pattern")
            }
            c.compiled = CompiledPattern(re: re)
        }
        if let x = o["one_of"] { c.oneOf = try r.array(x, at: p + ".one_of") }
        if let x = o["max_bytes"] { c.maxBytes = try r.int(x, at: p + ".max_bytes") }
        if let x = o["max"] {
            switch x {
            case .int(let i): c.max = Double(i)
            case .double(let d): c.max = d
            default: throw MCPError.policy("must be a number", place: p + ".max")
            }
        }
        if let x = o["required"] { c.required = try r.bool(x, at: p + ".required") }
        return c
    }

    /// Nil when the value is allowed, else the reason it is not.
    public func violation(_ value: JSONValue?, name: String) -> String? {
        guard let value else { return required ? "argument '\(name)' is required" : nil }
        if let maxBytes, value.canonical.utf8.count > maxBytes {
            return "argument '\(name)' is \(value.canonical.utf8.count) bytes, more than \(maxBytes)"
        }
        if let max {
            let n: Double? = { switch value { case .int(let i): return Double(i); case .double(let d): return d; default: return nil } }()
            guard let n, n <= max else { return "argument '\(name)' must be a number at most \(Self.show(max))" }
        }
        if !oneOf.isEmpty, !oneOf.contains(value) {
            return "argument '\(name)' must be one of \(oneOf.map(\.canonical).joined(separator: ", "))"
        }
        let needsString = !pathUnder.isEmpty || !urlHosts.isEmpty || pattern != nil
        guard needsString else { return nil }
        guard let s = value.string else { return "argument '\(name)' must be a string" }
        if !pathUnder.isEmpty, !pathUnder.contains(where: { Self.path(s, isUnder: $0) }) {
            return "argument '\(name)' path \(quoted(s)) is outside \(pathUnder.joined(separator: ", "))"
        }
        if !urlHosts.isEmpty {
            guard let host = Self.httpHost(s) else { return "argument '\(name)' is not an http(s) URL: \(quoted(s))" }
            let ok = urlHosts.contains { h in h.hasPrefix(".") ? (host.hasSuffix(h) || host == String(h.dropFirst())) : host == h }
            if !ok { return "argument '\(name)' reaches host \(quoted(host)), not one of \(urlHosts.joined(separator: ", "))" }
        }
        if let compiled {
            switch compiled.re.firstMatch(in: s) {
            case .found: break
            case .none: return "argument '\(name)' does not match /\(compiled.source)/"
            case .failed: return "argument '\(name)' could not be checked against /\(compiled.source)/ (the matcher gave up)"
            }
        }
        return nil
    }

    /// Lexical containment after resolving `.` and `..` (the gateway cannot see the server's
    /// filesystem; a symlink inside the root is the root owner's decision). A NUL byte never passes.
    static func path(_ p: String, isUnder root: String) -> Bool {
        guard p.hasPrefix("/"), !p.contains("\0") else { return false }
        func parts(_ s: String) -> [Substring]? {
            var out: [Substring] = []
            for c in s.split(separator: "/") {
                if c == "." { continue }
                if c == ".." { if out.isEmpty { return nil }; out.removeLast(); continue }
                out.append(c)
            }
            return out
        }
        guard let a = parts(p), let b = parts(root) else { return false }
        return a.count >= b.count && Array(a.prefix(b.count)) == b
    }

    /// The host of an http or https URL, lowercased, without brackets, port or trailing dot;
    /// nil for other schemes and for URLs with user info (`http://good@evil`).
    static func httpHost(_ s: String) -> String? {
        // Most strings are not URLs; the URL parser is left for those that could be.
        var head = s.utf8.prefix(8).makeIterator()
        for want in "http".utf8 { guard let b = head.next(), b | 0x20 == want else { return nil } }
        guard let c = URLComponents(string: s), let scheme = c.scheme?.lowercased(),
              scheme == "http" || scheme == "https", c.user == nil, c.password == nil,
              var host = c.host?.lowercased(), !host.isEmpty else { return nil }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.hasSuffix(".") { host.removeLast() }
        return host
    }

    static func show(_ d: Double) -> String { d == d.rounded() && abs(d) < 9e15 ? String(Int64(d)) : "\(d)" }
}

/// A policy's regular expression, compiled once; two are the same when their sources are.
struct CompiledPattern: Sendable, Hashable {
    let re: Pattern
    var source: String { re.source }
    static func == (a: CompiledPattern, b: CompiledPattern) -> Bool { a.source == b.source }
    func hash(into h: inout Hasher) { h.combine(source) }
}

func quoted(_ s: String, limit: Int = 80) -> String {
    let cut = s.count > limit ? String(s.prefix(limit)) + "…" : s
    return "'" + cut.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined() + "'"
}
