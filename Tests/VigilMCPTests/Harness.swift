import Foundation
import Testing
import VigilTestSupport
import VigilMCP

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let vigilBinary = packageRoot.appendingPathComponent(".build/debug/vigil").path
let venv = packageRoot.appendingPathComponent(".venv/mcp/bin").path
let wrongVenv = packageRoot.appendingPathComponent(".venv/mcp-wrong/bin").path
let driver = packageRoot.appendingPathComponent("Tests/VigilMCPTests/Drivers/mcp_client.py").path

/// What the gateway tests need on this machine; `make test` (scripts/setup test, swift build) provides it.
func requireTools() throws {
    for (path, how) in [(vigilBinary, "swift build"), (venv + "/mcp-server-git", "scripts/setup test"),
                        (wrongVenv + "/mcp-server-everything-wrong", "scripts/setup test")] {
        try #require(FileManager.default.isExecutableFile(atPath: path), "\(path) is missing: run \(how) (make test does both)")
    }
}

func tempDir(_ name: String = #function) throws -> URL { try makeTempDir("vigil-mcp-tests", name) }

/// Runs a program with only PATH and HOME from this environment (plus `env`): the gateway
/// must not depend on anything else being set.
func run(_ exe: String, _ args: [String], env: [String: String] = [:], cwd: URL? = nil) throws -> Ran {
    try runProgram(exe, args, base: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()], env: env, cwd: cwd)
}

func vigil(_ args: String...) throws -> Ran { try run(vigilBinary, args) }

/// A gateway set up in a fresh directory: a signing key, an agent token, and a configuration.
struct GatewaySetup {
    let dir: URL
    let token = "vgt_test_" + UUID().uuidString
    var config: URL { dir.appendingPathComponent("gateway.json") }
    var audit: URL { dir.appendingPathComponent("audit.jsonl") }
    var publicKey: String { dir.appendingPathComponent("gw.pub").path }
    var secretKey: String { dir.appendingPathComponent("gw.key").path }

    init(_ name: String = #function) throws {
        dir = try tempDir(name)
        let k = try vigil("mcp", "keygen", "--out", dir.appendingPathComponent("gw").path)
        try #require(k.status == 0, "keygen: \(k.err)")
    }

    /// `servers` and `allow` are JSON fragments; the rest (agent, audit, approvals) is filled in.
    func write(servers: String, allow: String, extra: String = "", agentExtra: String = "") throws {
        let text = """
        {"servers": {\(servers)},
         "agents": {"helper": {"token_sha256": "\(Sodium.sha256Hex(token))", "allow": [\(allow)]\(agentExtra)}},
         "audit": {"log": "audit.jsonl", "key": "gw.key"},
         "approvals": "approvals"\(extra)}
        """
        try text.write(to: config, atomically: true, encoding: .utf8)
    }

    /// The real MCP client drives the gateway through `steps`; returns each step's outcome.
    func drive(_ mode: String, _ stepsIn: JSONValue, token: String? = nil, target: String? = nil, ca: String? = nil) throws -> [JSONValue] {
        try driveSession(mode, stepsIn, token: token, target: target, ca: ca).steps
    }

    /// As `drive`, with the tool-list notifications an older client heard.
    /// `binary` is what the client spawns as the gateway (a wrapper around it, say).
    func driveSession(_ mode: String, _ stepsIn: JSONValue, token: String? = nil, target: String? = nil, ca: String? = nil,
                      binary: String = vigilBinary) throws -> (steps: [JSONValue], notified: [JSONValue]) {
        let r = try run(venv + "/python", [driver, binary, target ?? config.path, mode, stepsIn.canonical],
                        env: ["VIGIL_AGENT_TOKEN": token ?? self.token, "VIGIL_TEST_CA": ca ?? ""])
        let v = try JSONValue.parse(r.out)
        if let failed = v["failed"]?.string { throw GatewayTestFailure(reason: failed + "\n" + r.err) }
        let steps = v["steps"]?.array ?? []
        // One outcome per step plus the protocol line; anything else is a driver failure, not a crash.
        guard steps.count == (stepsIn.array?.count ?? 0) + 1 else {
            throw GatewayTestFailure(reason: "the driver returned \(steps.count) outcomes: \(r.out)\n\(r.err)")
        }
        return (steps, v["notified"]?.array ?? [])
    }

    var auditEntries: [JSONValue] {
        ((try? String(contentsOf: audit, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
    }
}

struct GatewayTestFailure: Error, CustomStringConvertible { var reason: String; var description: String { reason } }

let timeServer = #""time": {"command": "\#(venv)/mcp-server-time", "args": ["--local-timezone", "UTC"]}"#
let wrongServer = #""wrong": {"command": "\#(wrongVenv)/mcp-server-everything-wrong", "labels": ["untrusted"]}"#
