import Foundation
import VigilCore

/// What a token may do. Each role can do everything the one before it can.
public enum Role: String, Sendable, Codable, Comparable, CaseIterable {
    /// Reads everything but the change log.
    case viewer
    /// Also decides on incidents (acknowledge, resolve, mark false positive).
    case analyst
    /// Also reads the change log.
    case admin

    var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }
    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
}

/// An API token as the configuration holds it: a name for the change log, a role, and the
/// SHA-256 of the secret (the secret itself is never stored).
public struct APIToken: Sendable, Hashable {
    public var name: String
    public var role: Role
    public var sha256: String
    public init(name: String, role: Role, sha256: String) { self.name = name; self.role = role; self.sha256 = sha256.lowercased() }
}

/// Tokens by hash, compared without leaking which prefix matched.
public struct TokenTable: Sendable {
    let tokens: [APIToken]
    public init(_ tokens: [APIToken]) { self.tokens = tokens }

    /// The token whose secret hashes to `sha256`.
    public func find(sha256: String) -> APIToken? {
        let probe = Array(sha256.lowercased().utf8)
        var found: APIToken?
        for t in tokens {
            let h = Array(t.sha256.utf8)
            guard h.count == probe.count else { continue }
            var diff: UInt8 = 0
            for i in h.indices { diff |= h[i] ^ probe[i] }
            if diff == 0 { found = t }
        }
        return found
    }
}
