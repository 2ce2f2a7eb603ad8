import Foundation
import Testing
import VigilMCP

/// The gateway as an OAuth 2.1 resource server: access tokens from an authorization server (here
/// PyJWT standing in for one, Drivers/issuer.py) name agents by their subject; everything a token
/// can get wrong is refused with RFC 6750's answer.
@Suite(.serialized) struct OAuthGatewayTests {
    let issuerScript = packageRoot.appendingPathComponent("Tests/VigilMCPTests/Drivers/issuer.py").path

    func issuer(_ args: [String]) throws -> String {
        let r = try run(venv + "/python", [issuerScript] + args)
        try #require(r.status == 0, "issuer.py: \(r.err)")
        return r.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func sign(_ dir: URL, _ key: String, _ alg: String, _ claims: JSONValue, header: JSONValue = [:]) throws -> String {
        try issuer(["sign", dir.path, key, alg, claims.canonical, header.canonical])
    }

    func claims(_ audience: String, subject: String = "helper-client", expires: Double = 300, issuer: String = "https://idp.test",
                scope: String = "openid mcp:tools") -> JSONValue {
        let now = Date().timeIntervalSince1970
        return ["iss": .string(issuer), "aud": .string(audience), "sub": .string(subject), "exp": .double((now + expires).rounded()),
                "iat": .double(now.rounded()), "scope": .string(scope)]
    }

    @Test func accessTokensFromTheIssuerNameAgents() async throws {
        try requireTools()
        let g = try GatewaySetup()
        _ = try issuer(["keys", g.dir.path])
        try g.write(servers: timeServer, allow: #"{"server": "time"}"#,
                    extra: #", "oauth": {"issuer": "https://idp.test", "jwks": "jwks.json", "scope": "mcp:tools"}"#,
                    agentExtra: #", "subject": "helper-client""#)
        let checked = try vigil("mcp", "proxy", "--config", g.config.path, "--check")
        #expect(checked.status == 0 && checked.out.contains("oauth: tokens from https://idp.test") && checked.out.contains("subject helper-client"),
                "\(checked.out) \(checked.err)")
        let gw = try ListeningGateway(config: g.config)

        // The protected-resource metadata names the authorization server and the scope.
        let meta = try await post(gw.base + "/.well-known/oauth-protected-resource", token: nil, body: nil, method: "GET")
        #expect(meta.body?["authorization_servers"] == ["https://idp.test"] && meta.body?["scopes_supported"] == ["mcp:tools"], "\(String(describing: meta.body))")

        // The real client, with a token from each kind of key, in both eras.
        for (key, alg) in [("rsa", "RS256"), ("rsa", "PS256"), ("ec", "ES256"), ("ed", "EdDSA")] {
            let token = try sign(g.dir, key, alg, claims(gw.url))
            for mode in ["legacy", "2026-07-28"] {
                let steps = try g.drive(mode, [["op": "call", "tool": "get_current_time", "args": ["timezone": "UTC"]]], token: token, target: gw.url)
                #expect(steps[1]["text"]?.string?.contains("\"timezone\": \"UTC\"") == true, "\(alg) \(mode): \(steps)")
            }
        }
        // The static token still works beside them.
        #expect(try g.drive("2026-07-28", [["op": "list"]], target: gw.url)[1]["tools"]?.array?.isEmpty == false)

        let body: JSONValue = ["jsonrpc": "2.0", "id": 1, "method": "initialize",
                               "params": ["protocolVersion": "2025-11-25", "capabilities": [:], "clientInfo": ["name": "t", "version": "1"]]]
        func answer(_ token: String) async throws -> (Int, String) {
            let r = try await post(gw.url, token: token, body: body)
            return (r.status, r.headers["Www-Authenticate"] as? String ?? r.headers["WWW-Authenticate"] as? String ?? "")
        }
        let good = try sign(g.dir, "ec", "ES256", claims(gw.url))
        #expect(try await answer(good).0 == 200)
        var parts = good.split(separator: ".").map(String.init)
        parts[1] = String(parts[1].dropLast()) + (parts[1].hasSuffix("A") ? "B" : "A")
        let refused: [(String, String)] = [
            ("expired", try sign(g.dir, "ec", "ES256", claims(gw.url, expires: -600))),
            ("for another resource", try sign(g.dir, "ec", "ES256", claims("https://other.example/mcp"))),
            ("from another issuer", try sign(g.dir, "ec", "ES256", claims(gw.url, issuer: "https://evil.test"))),
            ("for a subject with no agent", try sign(g.dir, "ec", "ES256", claims(gw.url, subject: "stranger"))),
            ("unsigned (alg none)", try sign(g.dir, "none", "none", claims(gw.url))),
            ("HMAC keyed with the public key", try sign(g.dir, "rsa", "HS256", claims(gw.url), header: ["kid": "rsa"])),
            ("signed by a key the issuer does not publish", try sign(g.dir, "ec", "ES256", claims(gw.url), header: ["kid": "rotated-away"])),
            ("with its claims altered", parts.joined(separator: ".")),
        ]
        for (what, token) in refused {
            let (status, challenge) = try await answer(token)
            #expect(status == 401 && challenge.contains("error=\"invalid_token\""), "a token \(what) answered \(status) \(challenge)")
        }
        let (status, challenge) = try await answer(try sign(g.dir, "ec", "ES256", claims(gw.url, scope: "openid")))
        #expect(status == 403 && challenge.contains("insufficient_scope") && challenge.contains("scope=\"mcp:tools\""), "\(status) \(challenge)")

        // The issuer rotates its keys: the new key set is read, old keys stop working.
        let oldKeyToken = try sign(g.dir, "ed", "EdDSA", claims(gw.url))
        try await Task.sleep(nanoseconds: 1_100_000_000)
        _ = try issuer(["keys", g.dir.path])
        let newKeyToken = try sign(g.dir, "ed", "EdDSA", claims(gw.url))
        try await Task.sleep(nanoseconds: 5_500_000_000)
        #expect(try await answer(newKeyToken).0 == 200)
        #expect(try await answer(oldKeyToken).0 == 401)
    }

    /// Opaque tokens are checked at the authorization server's introspection endpoint (RFC 7662)
    /// with the gateway's own client credentials, held to the same rules as a JWT, and the
    /// answer kept a minute; an endpoint that cannot be reached fails closed.
    @Test func opaqueTokensAreIntrospectedAndTheAnswerIsKept() async throws {
        try requireTools()
        let g = try GatewaySetup()
        try "s3cret:value&more\n".write(to: g.dir.appendingPathComponent("idp-secret"), atomically: true, encoding: .utf8)
        let idp = try LoopbackServer(venv + "/python", { [issuerScript, "introspect", g.dir.path, String($0), "vigil gw", "s3cret:value&more"] })
        try g.write(servers: timeServer, allow: #"{"server": "time"}"#,
                    extra: #", "oauth": {"issuer": "https://idp.test", "scope": "mcp:tools", "introspection": {"url": "http://127.0.0.1:\#(idp.port)/introspect", "client_id": "vigil gw", "client_secret_file": "idp-secret"}}"#,
                    agentExtra: #", "subject": "helper-client""#)
        let checked = try vigil("mcp", "proxy", "--config", g.config.path, "--check")
        #expect(checked.status == 0 && checked.out.contains("introspection at http://127.0.0.1:\(idp.port)/introspect"), "\(checked.out) \(checked.err)")
        let gw = try ListeningGateway(config: g.config)
        let exp = JSONValue.double((Date().timeIntervalSince1970 + 300).rounded())
        func answer(aud: String = gw.url, sub: String = "helper-client", scope: String = "openid mcp:tools", active: Bool = true) -> JSONValue {
            ["active": .bool(active), "iss": "https://idp.test", "aud": .string(aud), "sub": .string(sub), "scope": .string(scope), "exp": exp, "token_type": "Bearer"]
        }
        let tokens: JSONValue = ["opaque-good": answer(), "opaque-revoked": answer(active: false), "opaque-elsewhere": answer(aud: "https://other.example/mcp"),
                                 "opaque-unscoped": answer(scope: "openid"), "opaque-stranger": answer(sub: "stranger"), "opaque-late": answer()]
        try tokens.canonical.write(to: g.dir.appendingPathComponent("tokens.json"), atomically: true, encoding: .utf8)
        func asked() -> Int { ((try? String(contentsOf: g.dir.appendingPathComponent("asked"), encoding: .utf8)) ?? "").count }

        let steps = try g.drive("2026-07-28", [["op": "list"], ["op": "call", "tool": "get_current_time", "args": ["timezone": "UTC"]]],
                                token: "opaque-good", target: gw.url)
        #expect(steps[2]["text"]?.string?.contains("\"timezone\": \"UTC\"") == true, "\(steps)")
        // Several requests with one token: the authorization server was asked once.
        #expect(asked() == 1)
        let body: JSONValue = ["jsonrpc": "2.0", "id": 1, "method": "initialize",
                               "params": ["protocolVersion": "2025-11-25", "capabilities": [:], "clientInfo": ["name": "t", "version": "1"]]]
        func status(_ token: String) async throws -> (Int, String) {
            let r = try await post(gw.url, token: token, body: body)
            return (r.status, r.headers["Www-Authenticate"] as? String ?? r.headers["WWW-Authenticate"] as? String ?? "")
        }
        for token in ["opaque-revoked", "opaque-elsewhere", "opaque-stranger", "opaque-never-issued"] {
            let (code, challenge) = try await status(token)
            #expect(code == 401 && challenge.contains("error=\"invalid_token\""), "\(token): \(code) \(challenge)")
        }
        let (code, challenge) = try await status("opaque-unscoped")
        #expect(code == 403 && challenge.contains("insufficient_scope"), "\(code) \(challenge)")
        // The authorization server goes away: a token it never answered for is not let in.
        kill(idp.process.processIdentifier, SIGKILL)
        idp.process.waitUntilExit()
        #expect(try await status("opaque-late").0 == 503)
        #expect(try await status("opaque-good").0 == 200)
    }

    @Test func theGatewayFailsClosedWithoutTheIssuersKeys() throws {
        try requireTools()
        let g = try GatewaySetup()
        try g.write(servers: timeServer, allow: #"{"server": "time"}"#,
                    extra: #", "oauth": {"issuer": "https://idp.test", "jwks": "missing.json"}"#, agentExtra: #", "subject": "helper-client""#)
        let r = try vigil("mcp", "proxy", "--config", g.config.path, "--listen", "127.0.0.1:0")
        #expect(r.status != 0 && r.err.contains("missing.json"), "\(r.status) \(r.err)")
        let checked = try vigil("mcp", "proxy", "--config", g.config.path, "--check")
        #expect(checked.status != 0 && checked.err.contains("missing.json"), "\(checked.status) \(checked.err)")
        // A subject with no oauth section is a configuration error, named.
        try g.write(servers: timeServer, allow: #"{"server": "time"}"#, agentExtra: #", "subject": "helper-client""#)
        let c = try vigil("mcp", "proxy", "--config", g.config.path, "--listen", "127.0.0.1:0")
        #expect(c.status != 0 && c.err.contains("agents.helper.subject"), "\(c.err)")
    }
}
