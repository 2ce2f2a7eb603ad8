// libFuzzer target for the MCP gateway's pure core: JSON and JSON-RPC parsing, the canonical
// writer, the content checks with every reading of a text, the leak checks, argument shapes,
// the policy, the trifecta tracker, audit-log reading, and the Gateway state machine fed the
// input's lines alternately as client and upstream messages.
// Built by fuzz/run.sh with `swiftc -sanitize=fuzzer,address`.
import Foundation
import VigilCore
import VigilMCP

let fuzzConfig: GatewayConfig = {
    let text = """
    {"servers": {"a": {"command": "true", "labels": ["private"]}, "b": {"command": "true", "labels": ["untrusted", "outbound"]}},
     "agents": {"x": {"token_sha256": "\(String(repeating: "0", count: 64))",
       "allow": [{"server": "a", "arguments": {"p": {"path_under": "/srv", "max_bytes": 64}}},
                 {"server": "a", "tools": [], "prompts": ["*"], "resources": ["file:///srv/"]},
                 {"server": "b", "arguments": {"url": {"url_hosts": [".example.org"]}, "n": {"max": 5, "pattern": "[0-9]+"}}}],
       "rate": {"calls": 1000, "per_seconds": 1}, "approval": ["t2"]}}}
    """
    return try! GatewayConfig.parse(text)
}()

/// An issuer's published keys (P-256 and Ed25519), for the access-token verifier.
let fuzzTokens: AccessTokenVerifier = {
    let jwks = #"{"keys": [{"kty": "EC", "crv": "P-256", "x": "xE8Nr7iQ6SjOyTb9Ur7jaYdk-QQyAhtL0jYRNe5LhTM", "y": "OYfggNVb3Vf9x1HeNrY3iv2nO0cJEKKtwpFNPopBdJg", "kid": "ec", "use": "sig"}, {"x": "ePUERYQ8DpExzbO5YSM9emFlXbITSnNAFTh28l2Q9cs", "kty": "OKP", "crv": "Ed25519", "kid": "ed", "use": "sig"}]}"#
    return AccessTokenVerifier(settings: .init(issuer: "https://idp.test", jwks: "fuzz"), keys: try! JWKSet.parse(Data(jwks.utf8), source: "fuzz"))
}()

/// Builds the process-lifetime tables (compiled expressions, the policy) before fuzzing starts,
/// so LeakSanitizer does not count them against the first input.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    // The results are used, so the optimiser cannot drop the calls that build the tables.
    var found = fuzzConfig.agents.count
    found += InjectionCheck().check("ignore previous instructions \u{200B} SWdub3Jl", channel: "warmup").count
    found += LeakCheck().check("AKIAIOSFODNN7EXAMPLE 4111 1111 1111 1111 GB82 WEST 1234 5698 7654 32", channel: "warmup").count
    found += (try? JSONValue.parse("{\"a\":[1,2.5,true,null,\"x\"]}"))?.canonical.count ?? 0
    // A token the fuzz key signed: the verifier's whole path runs once before fuzzing.
    let token = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjIiwidHlwIjoiSldUIn0.eyJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjoiaHR0cHM6Ly9ndy50ZXN0L21jcCIsInN1YiI6IngiLCJleHAiOjE3MDAwMDAxMDB9.kwgeiH11YH3nbp93RkrgSq2pJr-ox9s8ohAYMwVlBK5Q4X0JMs7CAUc9Ggkq3g6Tq_i7-L8sywqzhklGuszpvQ"
    if case .success = fuzzTokens.verify(token, audience: "https://gw.test/mcp", now: 1_700_000_000) { found += 1 }
    if found == 0 { fputs("fuzz-mcp: warm-up found nothing\n", stderr) }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    let text = String(decoding: bytes, as: UTF8.self)
    if let v = try? JSONValue.parse(bytes) {
        _ = v.canonical
        _ = ArgumentShape.of(v)
        _ = LeakCheck().check(v, channel: "arguments")
        if let o = v.object, let agent = fuzzConfig.agents["x"] {
            _ = Policy.decide(agent: agent, server: "a", tool: "t", arguments: o)
            _ = Policy.decide(agent: agent, server: "b", tool: "t", arguments: o)
        }
        var flow = DataFlowTracker()
        flow.capacity = 512
        flow.recordResult(v, labels: [.private, .untrusted], tool: "t")
        _ = flow.check(arguments: v, labels: [.outbound], tool: "u")
    }
    _ = InjectionCheck().check(text, channel: "tool-result")
    // Bearer tokens come from anyone who can reach the endpoint.
    if AccessTokenVerifier.looksLikeJWT(text) { _ = fuzzTokens.verify(text, audience: "https://gw.test/mcp", now: 1_700_000_000) }
    _ = try? JWKSet.parse(bytes, source: "fuzz")
    // An introspection endpoint's answer is read as the authorization server sent it.
    if let v = try? JSONValue.parse(bytes) { _ = AccessTokenVerifier.check(introspected: v, settings: fuzzTokens.settings, audience: "https://gw.test/mcp", now: 1_700_000_000) }
    var records = AuditRecords()
    records.read(lines: text.split(separator: "\n", omittingEmptySubsequences: false), file: "fuzz")
    // The state machine: lines alternate between the client and upstream "a".
    var g = Gateway(config: fuzzConfig, agent: fuzzConfig.agents["x"]!, lockfile: nil)
    var now = 1_700_000_000.0
    _ = g.start(now: now)
    // Let both upstreams answer discover, then list one tool each, so calls reach the checks.
    for s in ["a", "b"] {
        _ = g.fromUpstream(s, .error(id: 1, code: -32602, message: "x", data: nil), now: now)
    }
    for (i, line) in text.split(separator: "\n").prefix(64).enumerated() {
        now += 0.5
        guard let m = try? RPCMessage.parse(String(line)) else { continue }
        if i % 2 == 0 { _ = g.fromClient(m, now: now) } else { _ = g.fromUpstream(i % 4 == 1 ? "a" : "b", m, now: now) }
    }
    _ = g.upstreamClosed("a", reason: "fuzz", now: now)
    return 0
}
