import CGnuTLS
import CSodium
import Foundation

/// OAuth 2.1 access tokens for the gateway as a resource server: a JWT (RFC 9068 profile) issued
/// by the team's authorization server, checked here before anything else — signature against the
/// issuer's published keys (RS256 and PS256 with GnuTLS, ES256 with GnuTLS, EdDSA with libsodium;
/// `none` and shared-secret HMAC refused, and a key is used only with its own algorithm, so a
/// public key can never be replayed as an HMAC secret), issuer, audience (RFC 8707: the token
/// must name this gateway), expiry and not-before with a small leeway, the required scope. The
/// claim that names the agent (`sub` by default) is then matched to an agent's `subject`.
public struct AccessTokenVerifier: Sendable {
    public struct Settings: Sendable, Hashable {
        public var issuer: String
        /// A JWKS file path or an https URL (nil when tokens are only introspected).
        public var jwks: String?
        /// RFC 7662: where opaque tokens (and JWTs, without a key set) are checked.
        public var introspection: Introspection?
        /// The audience the token must carry; nil means the gateway's own resource URL.
        public var audience: String?
        public var agentClaim = "sub"
        public var scope: String?
        public var leewaySeconds: Double = 60
        public init(issuer: String, jwks: String?) { self.issuer = issuer; self.jwks = jwks }
    }

    /// The authorization server's introspection endpoint and the gateway's own client
    /// credentials for it (HTTP Basic, RFC 7662 section 2.1).
    public struct Introspection: Sendable, Hashable {
        public var url: String
        public var clientID: String
        /// A file holding the client secret (kept out of the policy file).
        public var secretFile: String
        public init(url: String, clientID: String, secretFile: String) { self.url = url; self.clientID = clientID; self.secretFile = secretFile }
    }

    public struct Claims: Sendable {
        public var subject: String
        public var expires: Double
        public var keyID: String?
    }

    /// Why a token was refused, in words for `error_description`; a missing scope is its own
    /// answer (403 `insufficient_scope`, RFC 6750), every other reason is `invalid_token`.
    public struct Refusal: Error, Sendable {
        public var reason: String
        public var insufficientScope = false
        /// No key with the token's kid: the issuer may have rotated its keys.
        public var unknownKey = false
    }

    public let settings: Settings
    public let keys: JWKSet

    public init(settings: Settings, keys: JWKSet) { self.settings = settings; self.keys = keys }

    /// An introspection answer (RFC 7662) held to the same rules as a JWT's claims: active, this
    /// issuer (when named), this audience, unexpired, the scope, and a claim naming the agent.
    public static func check(introspected v: JSONValue, settings: Settings, audience defaultAudience: String, now: Double) -> Result<Claims, Refusal> {
        func refuse(_ why: String) -> Result<Claims, Refusal> { .failure(Refusal(reason: why)) }
        guard v.object != nil else { return refuse("the introspection answer is not a JSON object") }
        guard v["active"]?.bool == true else { return refuse("the authorization server says the token is not active") }
        if let iss = v["iss"]?.string, iss != settings.issuer { return refuse("issuer \(iss) is not \(settings.issuer)") }
        if let type = v["token_type"]?.string, type.lowercased() != "bearer", type.lowercased() != "access_token" {
            return refuse("token type \(type) is not an access token")
        }
        let audience = settings.audience ?? defaultAudience
        let audiences = v["aud"]?.string.map { [$0] } ?? v["aud"]?.array?.compactMap(\.string) ?? []
        guard audiences.contains(audience) else { return refuse("the token is for \(audiences.isEmpty ? "no audience" : audiences.joined(separator: ", ")), not \(audience)") }
        let exp = v["exp"]?.number
        if let exp, now > exp + settings.leewaySeconds { return refuse("the token expired") }
        if let nbf = v["nbf"]?.number, now + settings.leewaySeconds < nbf { return refuse("the token is not valid yet") }
        if let scope = settings.scope {
            let granted = Set(v["scope"]?.string?.split(separator: " ").map(String.init) ?? [])
            guard granted.contains(scope) else { return .failure(Refusal(reason: "the token lacks scope \(scope)", insufficientScope: true)) }
        }
        guard let subject = v[settings.agentClaim]?.string, !subject.isEmpty else { return refuse("the introspection answer has no \(settings.agentClaim)") }
        return .success(Claims(subject: subject, expires: exp ?? .infinity, keyID: nil))
    }

    /// Whether a bearer token has the shape of a JWT (three base64url parts).
    public static func looksLikeJWT(_ token: String) -> Bool {
        token.utf8.count < 16 << 10 && token.split(separator: ".", omittingEmptySubsequences: false).count == 3
    }

    /// The token's claims, or why it is refused (words for `error_description`).
    public func verify(_ token: String, audience defaultAudience: String, now: Double) -> Result<Claims, Refusal> {
        func refuse(_ why: String) -> Result<Claims, Refusal> { .failure(Refusal(reason: why)) }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Self.base64URL(parts[0]), let payloadBytes = Self.base64URL(parts[1]),
              let signature = Self.base64URL(parts[2]) else { return refuse("not a JWT (three base64url parts)") }
        guard let header = try? JSONValue.parse(Data(headerBytes)), let claims = try? JSONValue.parse(Data(payloadBytes)),
              header.object != nil, claims.object != nil else { return refuse("the JWT header or claims are not JSON objects") }
        guard let alg = header["alg"]?.string else { return refuse("the JWT names no algorithm") }
        guard let algorithm = JWKSet.Algorithm(rawValue: alg) else { return refuse("algorithm \(alg) is not accepted (RS256, PS256, ES256, EdDSA)") }
        if let typ = header["typ"]?.string, !["jwt", "at+jwt", "application/at+jwt"].contains(typ.lowercased()) {
            return refuse("token type \(typ) is not an access token")
        }
        if header["crit"] != nil { return refuse("critical header extensions are not understood") }
        let kid = header["kid"]?.string
        let candidates = keys.keys.filter { ($0.id == kid || kid == nil) && $0.algorithm == algorithm }
        guard !candidates.isEmpty else { return .failure(Refusal(reason: "no key \(kid ?? "(no kid)") for \(alg) in the issuer's key set", unknownKey: true)) }
        let signed = Array(parts[0].utf8) + [0x2E] + Array(parts[1].utf8)
        guard candidates.contains(where: { $0.verify(signature: signature, message: signed) }) else { return refuse("the signature does not verify") }

        guard claims["iss"]?.string == settings.issuer else { return refuse("issuer \(claims["iss"]?.string ?? "(none)") is not \(settings.issuer)") }
        let audience = settings.audience ?? defaultAudience
        let audiences = claims["aud"]?.string.map { [$0] } ?? claims["aud"]?.array?.compactMap(\.string) ?? []
        guard audiences.contains(audience) else { return refuse("the token is for \(audiences.isEmpty ? "no audience" : audiences.joined(separator: ", ")), not \(audience)") }
        guard let exp = claims["exp"]?.number else { return refuse("the token has no expiry") }
        guard now <= exp + settings.leewaySeconds else { return refuse("the token expired") }
        if let nbf = claims["nbf"]?.number, now + settings.leewaySeconds < nbf { return refuse("the token is not valid yet") }
        if let scope = settings.scope {
            let granted = Set((claims["scope"]?.string?.split(separator: " ").map(String.init) ?? []) + (claims["scp"]?.array?.compactMap(\.string) ?? []))
            guard granted.contains(scope) else { return .failure(Refusal(reason: "the token lacks scope \(scope)", insufficientScope: true)) }
        }
        guard let subject = claims[settings.agentClaim]?.string, !subject.isEmpty else { return refuse("the token has no \(settings.agentClaim) claim") }
        return .success(Claims(subject: subject, expires: exp, keyID: kid))
    }

    static func base64URL<S: StringProtocol>(_ s: S) -> [UInt8]? {
        guard !s.isEmpty, s.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F }) else { return nil }
        var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.utf8.count % 4 != 0 { t += "=" }
        return Sodium.fromBase64(t)
    }
}

/// An issuer's public keys (RFC 7517), each bound to the one algorithm it may verify.
public struct JWKSet: Sendable {
    public enum Algorithm: String, Sendable, Hashable { case rs256 = "RS256", ps256 = "PS256", es256 = "ES256", edDSA = "EdDSA" }

    public struct Key: Sendable {
        public var id: String?
        public var algorithm: Algorithm
        /// The public key's numbers: RSA n and e, P-256 x and y, or an Ed25519 key and nothing.
        /// (Plain fields, not an enum with payloads: leak checkers cannot follow pointers an enum
        /// keeps tagged in spare bits.)
        var first: [UInt8]
        var second: [UInt8]

        func verify(signature: [UInt8], message: [UInt8]) -> Bool {
            switch algorithm {
            case .edDSA:
                return Sodium.verify(signature, message, publicKey: first)
            case .rs256, .ps256:
                return GnuTLSVerify.rsa(n: first, e: second, pss: algorithm == .ps256, signature: signature, message: message)
            case .es256:
                guard signature.count == 64 else { return false }
                return GnuTLSVerify.p256(x: first, y: second, r: Array(signature[0..<32]), s: Array(signature[32...]), message: message)
            }
        }
    }

    public var keys: [Key]
    /// Keys skipped (other uses, other curves, encryption keys), with why.
    public var skipped: [String]

    /// Reads a JWKS document; a key that cannot be used for signatures here is skipped and named.
    public static func parse(_ data: Data, source: String) throws -> JWKSet {
        guard let v = try? JSONValue.parse(data), let list = v["keys"]?.array else {
            throw MCPError.policy("not a JWKS document (an object with a keys list)", place: source)
        }
        var keys: [Key] = [], skipped: [String] = []
        for (i, k) in list.enumerated() {
            let name = k["kid"]?.string ?? "#\(i)"
            if let use = k["use"]?.string, use != "sig" { skipped.append("\(name): use \(use)"); continue }
            func b(_ f: String) -> [UInt8]? { k[f]?.string.flatMap { AccessTokenVerifier.base64URL($0) } }
            let alg = k["alg"]?.string
            switch k["kty"]?.string {
            case "RSA":
                guard let n = b("n"), let e = b("e"), n.count >= 256 else { skipped.append("\(name): RSA key missing n/e or under 2048 bits"); continue }
                let algs: [Algorithm] = alg.map { [Algorithm(rawValue: $0)].compactMap { $0 }.filter { $0 == .rs256 || $0 == .ps256 } } ?? [.rs256, .ps256]
                if algs.isEmpty { skipped.append("\(name): algorithm \(alg ?? "") for an RSA key is not accepted") }
                for a in algs { keys.append(Key(id: k["kid"]?.string, algorithm: a, first: n, second: e)) }
            case "EC":
                guard k["crv"]?.string == "P-256", let x = b("x"), let y = b("y"), x.count == 32, y.count == 32, alg == nil || alg == "ES256" else {
                    skipped.append("\(name): only P-256 keys for ES256 are accepted"); continue
                }
                keys.append(Key(id: k["kid"]?.string, algorithm: .es256, first: x, second: y))
            case "OKP":
                guard k["crv"]?.string == "Ed25519", let x = b("x"), x.count == 32, alg == nil || alg == "EdDSA" else {
                    skipped.append("\(name): only Ed25519 keys for EdDSA are accepted"); continue
                }
                keys.append(Key(id: k["kid"]?.string, algorithm: .edDSA, first: x, second: []))
            default:
                skipped.append("\(name): key type \(k["kty"]?.string ?? "(none)") is not for signatures here")
            }
        }
        guard !keys.isEmpty else { throw MCPError.policy("no usable signing key (\(skipped.joined(separator: "; ")))", place: source) }
        return JWKSet(keys: keys, skipped: skipped)
    }
}

/// RSA and ECDSA verification with GnuTLS (the TLS library libmicrohttpd already links).
enum GnuTLSVerify {
    static func rsa(n: [UInt8], e: [UInt8], pss: Bool, signature: [UInt8], message: [UInt8]) -> Bool {
        withKey({ key in
            n.withUnsafeBufferPointer { np in e.withUnsafeBufferPointer { ep in
                var nd = gnutls_datum_t(data: UnsafeMutablePointer(mutating: np.baseAddress), size: UInt32(np.count))
                var ed = gnutls_datum_t(data: UnsafeMutablePointer(mutating: ep.baseAddress), size: UInt32(ep.count))
                return gnutls_pubkey_import_rsa_raw(key, &nd, &ed)
            } }
        }, algorithm: pss ? GNUTLS_SIGN_RSA_PSS_RSAE_SHA256 : GNUTLS_SIGN_RSA_SHA256, signature: signature, message: message)
    }

    static func p256(x: [UInt8], y: [UInt8], r: [UInt8], s: [UInt8], message: [UInt8]) -> Bool {
        // A JWS carries r||s; GnuTLS verifies the DER form.
        var der = gnutls_datum_t(data: nil, size: 0)
        let encoded = r.withUnsafeBufferPointer { rp in s.withUnsafeBufferPointer { sp in
            var rd = gnutls_datum_t(data: UnsafeMutablePointer(mutating: rp.baseAddress), size: UInt32(rp.count))
            var sd = gnutls_datum_t(data: UnsafeMutablePointer(mutating: sp.baseAddress), size: UInt32(sp.count))
            return gnutls_encode_rs_value(&der, &rd, &sd)
        } }
        guard encoded == 0, let d = der.data else { return false }
        defer { vigil_gnutls_free(d) }
        let sig = Array(UnsafeBufferPointer(start: d, count: Int(der.size)))
        return withKey({ key in
            x.withUnsafeBufferPointer { xp in y.withUnsafeBufferPointer { yp in
                var xd = gnutls_datum_t(data: UnsafeMutablePointer(mutating: xp.baseAddress), size: UInt32(xp.count))
                var yd = gnutls_datum_t(data: UnsafeMutablePointer(mutating: yp.baseAddress), size: UInt32(yp.count))
                return gnutls_pubkey_import_ecc_raw(key, GNUTLS_ECC_CURVE_SECP256R1, &xd, &yd)
            } }
        }, algorithm: GNUTLS_SIGN_ECDSA_SHA256, signature: sig, message: message)
    }

    private static func withKey(_ load: (gnutls_pubkey_t) -> Int32, algorithm: gnutls_sign_algorithm_t, signature: [UInt8], message: [UInt8]) -> Bool {
        var key: gnutls_pubkey_t?
        guard gnutls_pubkey_init(&key) == 0, let key else { return false }
        defer { gnutls_pubkey_deinit(key) }
        guard load(key) == 0 else { return false }
        return message.withUnsafeBufferPointer { mp in signature.withUnsafeBufferPointer { sp in
            var md = gnutls_datum_t(data: UnsafeMutablePointer(mutating: mp.baseAddress), size: UInt32(mp.count))
            var sd = gnutls_datum_t(data: UnsafeMutablePointer(mutating: sp.baseAddress), size: UInt32(sp.count))
            return gnutls_pubkey_verify_data2(key, algorithm, 0, &md, &sd) >= 0
        } }
    }
}
