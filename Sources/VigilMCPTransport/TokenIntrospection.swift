import Foundation
import VigilHTTP
import VigilMCP

/// RFC 7662 at the gateway: a bearer token that is no static agent token and cannot be checked
/// locally (opaque, or a JWT without a key set) is sent to the authorization server's
/// introspection endpoint with the gateway's own client credentials, and the answer is held to
/// the same rules as a JWT (`AccessTokenVerifier.check(introspected:)`). Answers are kept by the
/// token's SHA-256 for a minute at most and never past the token's expiry, refusals for ten
/// seconds, and at most 10,000 of them: a client's calls cost one round trip a minute, and a
/// flood of made-up tokens neither hammers the server faster than clients send them nor grows
/// memory. An endpoint that cannot be reached fails closed (503).
final class TokenIntrospection: @unchecked Sendable {
    let settings: AccessTokenVerifier.Settings
    let endpoint: AccessTokenVerifier.Introspection
    private let secret: String
    private let lock = NSLock()
    private var cache: [String: (outcome: Outcome, until: Double)] = [:]
    static let maxCached = 10_000

    enum Outcome: Sendable {
        case claims(AccessTokenVerifier.Claims)
        case refused(AccessTokenVerifier.Refusal)
        case unavailable(String)
    }

    init(settings: AccessTokenVerifier.Settings, introspection: AccessTokenVerifier.Introspection) throws {
        self.settings = settings
        endpoint = introspection
        guard let text = try? String(contentsOfFile: introspection.secretFile, encoding: .utf8),
              case let s = text.trimmingCharacters(in: .whitespacesAndNewlines), !s.isEmpty else {
            throw MCPError.policy("cannot read the client secret", place: introspection.secretFile)
        }
        secret = s
    }

    func check(_ token: String, audience: String, now: Double) -> Outcome {
        let key = Sodium.sha256Hex(token)
        lock.lock()
        if let hit = cache[key], hit.until > now { lock.unlock(); return hit.outcome }
        lock.unlock()
        let outcome = ask(token, audience: audience, now: now)
        let until: Double
        switch outcome {
        case .claims(let c): until = min(now + 60, c.expires)
        case .refused: until = now + 10
        case .unavailable: return outcome
        }
        lock.lock()
        if cache.count >= Self.maxCached { cache = cache.filter { $0.value.until > now } }
        if cache.count >= Self.maxCached { cache.removeAll() }
        cache[key] = (outcome, until)
        lock.unlock()
        return outcome
    }

    private func ask(_ token: String, audience: String, now: Double) -> Outcome {
        // RFC 6749 section 2.3.1: each part form-encoded, then Basic.
        let basic = Data((Self.formEncoded(endpoint.clientID) + ":" + Self.formEncoded(secret)).utf8).base64EncodedString()
        let r = OutgoingRequest("POST", endpoint.url,
                            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json"), ("Authorization", "Basic " + basic)],
                            body: Array(("token=" + Self.formEncoded(token) + "&token_type_hint=access_token").utf8), timeout: 5)
        switch HTTPClient.send(r, maxBody: 1 << 20) {
        case .failure(let f):
            logLine("oauth: introspection failed: \(f)")
            return .unavailable("the authorization server did not answer")
        case .success(let a) where a.status != 200:
            logLine("oauth: introspection answered HTTP \(a.status)")
            return .unavailable("the authorization server answered HTTP \(a.status)")
        case .success(let a):
            guard let v = try? a.body.withUnsafeBytes({ try JSONValue.parse(bytes: $0) }) else { return .unavailable("the introspection answer is not JSON") }
            switch AccessTokenVerifier.check(introspected: v, settings: settings, audience: audience, now: now) {
            case .success(let c): return .claims(c)
            case .failure(let refusal): return .refused(refusal)
            }
        }
    }

    /// application/x-www-form-urlencoded: unreserved characters as they are, everything else %XX.
    static func formEncoded(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E: out.unicodeScalars.append(Unicode.Scalar(b))
            default: out += String(format: "%%%02X", b)
            }
        }
        return out
    }
}
