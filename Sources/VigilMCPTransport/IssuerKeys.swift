import Foundation
import VigilHTTP
import VigilMCP

/// The authorization server's signing keys, from a JWKS file or URL. Read at start (an
/// unreadable key set stops the gateway: it fails closed); a file is read again when it
/// changes, a URL when a token names a key it does not hold (rotation) or every hour — never more
/// than once a minute, so a stream of tokens with made-up key ids cannot make the gateway hammer
/// the issuer.
final class IssuerKeys: @unchecked Sendable {
    let settings: AccessTokenVerifier.Settings
    /// The key set's file or URL.
    let source: String
    private let lock = NSLock()
    private var verifier: AccessTokenVerifier
    private var loadedAt: Double
    private var fileStamp: Date?
    private var lastCheck: Double

    init(settings: AccessTokenVerifier.Settings, source: String, now: Double) throws {
        self.settings = settings
        self.source = source
        let (set, stamp) = try Self.load(source)
        verifier = AccessTokenVerifier(settings: settings, keys: set)
        fileStamp = stamp
        loadedAt = now
        lastCheck = now
        for s in set.skipped { logLine("oauth: key skipped: \(s)") }
    }

    /// Signing keys held now.
    var count: Int { current.keys.keys.count }

    var isURL: Bool { source.hasPrefix("https://") || source.hasPrefix("http://") }

    func verify(_ token: String, audience: String, now: Double) -> Result<AccessTokenVerifier.Claims, AccessTokenVerifier.Refusal> {
        refreshIfDue(now: now, force: false)
        let first = current.verify(token, audience: audience, now: now)
        if case .failure(let r) = first, r.unknownKey, refreshIfDue(now: now, force: true) {
            return current.verify(token, audience: audience, now: now)
        }
        return first
    }

    private var current: AccessTokenVerifier { lock.lock(); defer { lock.unlock() }; return verifier }

    /// Reloads when due; true when new keys were loaded.
    @discardableResult
    private func refreshIfDue(now: Double, force: Bool) -> Bool {
        lock.lock()
        let sinceCheck = now - lastCheck
        let due: Bool
        if isURL { due = (force && sinceCheck >= 60) || now - loadedAt >= 3600 }
        else { due = sinceCheck >= 5 }
        if due { lastCheck = now }
        let stamp = fileStamp
        lock.unlock()
        guard due else { return false }
        if !isURL {
            let m = (try? FileManager.default.attributesOfItem(atPath: source))?[.modificationDate] as? Date
            guard m != stamp else { return false }
        }
        do {
            let (set, newStamp) = try Self.load(source)
            lock.lock()
            verifier = AccessTokenVerifier(settings: settings, keys: set)
            fileStamp = newStamp
            loadedAt = now
            lock.unlock()
            logLine("oauth: read \(set.keys.count) signing keys from \(source)")
            return true
        } catch {
            // Keep the keys already held: a failed refresh must not lock everyone out, nor let anyone in.
            logLine("oauth: could not read the key set again (\(error)); keeping the keys already held")
            return false
        }
    }

    private static func load(_ source: String) throws -> (JWKSet, Date?) {
        if source.hasPrefix("https://") || source.hasPrefix("http://") {
            let r = OutgoingRequest("GET", source, headers: [("Accept", "application/json")], timeout: 10)
            switch HTTPClient.send(r, maxBody: 1 << 20) {
            case .failure(let f): throw MCPError.policy("cannot fetch the key set (\(f))", place: source)
            case .success(let a) where a.status != 200: throw MCPError.policy("cannot fetch the key set (HTTP \(a.status))", place: source)
            case .success(let a): return (try JWKSet.parse(Data(a.body), source: source), nil)
            }
        }
        guard let data = FileManager.default.contents(atPath: source) else { throw MCPError.policy("cannot read the key set", place: source) }
        let stamp = (try? FileManager.default.attributesOfItem(atPath: source))?[.modificationDate] as? Date
        return (try JWKSet.parse(data, source: source), stamp)
    }
}
