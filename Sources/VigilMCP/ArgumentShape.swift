import Foundation

/// The shape of a tool call's arguments, kept in the audit log instead of their values: enough
/// for the learner to notice "this agent never passed a URL to that host" or "a path outside
/// the repository", without keeping what the agent wrote.
public enum ArgumentShape {
    public static func of(_ arguments: JSONValue) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in arguments.object ?? [:] { out[k] = describe(v) }
        return out
    }

    static func describe(_ v: JSONValue) -> String {
        switch v {
        case .null: return "null"
        case .bool: return "bool"
        case .int, .double: return "number"
        case .array(let a): return "list:\(sizeClass(a.count))"
        case .object(let o): return "object:" + o.keys.sorted().prefix(8).joined(separator: ",")
        case .string(let s):
            if let host = ArgumentConstraint.httpHost(s) { return "url:" + host }
            if s.hasPrefix("/") {
                let parts = s.split(separator: "/").prefix(2)
                return "path:/" + parts.joined(separator: "/")
            }
            if let at = s.utf8.firstIndex(of: 0x40), !s.utf8.contains(0x20) {
                let domain = s.utf8[s.utf8.index(after: at)...]
                if domain.contains(0x2E) { return "email:" + String(Substring(domain)).lowercased() }
            }
            return "text:\(sizeClass(s.utf8.count))"
        }
    }

    /// 0, 1-8, 9-64, 65-512, 513-4096, more: what changes when an argument starts carrying data.
    static func sizeClass(_ n: Int) -> String {
        switch n {
        case 0: return "0"
        case 1...8: return "1-8"
        case 9...64: return "9-64"
        case 65...512: return "65-512"
        case 513...4096: return "513-4k"
        default: return ">4k"
        }
    }
}
