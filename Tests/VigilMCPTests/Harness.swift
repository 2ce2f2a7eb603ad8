import Foundation
import Testing
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

func tempDir(_ name: String = #function) throws -> URL {
    let base = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("vigil-mcp-tests-\(getpid())")
        .appendingPathComponent(name.filter { $0.isLetter || $0.isNumber } + "-" + UUID().uuidString.prefix(8))
    try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
    return base
}

struct Ran { var status: Int32; var out: String; var err: String }

/// Runs a program to completion; output is read concurrently so a chatty child never blocks.
func run(_ exe: String, _ args: [String], env: [String: String] = [:], cwd: URL? = nil) throws -> Ran {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    var e = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
    for (k, v) in env { e[k] = v }
    p.environment = e
    if let cwd { p.currentDirectoryURL = cwd }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out; p.standardError = err; p.standardInput = FileHandle.nullDevice
    try p.run()
    let group = DispatchGroup()
    nonisolated(unsafe) var o = Data(), r = Data()
    group.enter(); DispatchQueue.global().async { o = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.enter(); DispatchQueue.global().async { r = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.wait()
    p.waitUntilExit()
    return Ran(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: r, as: UTF8.self))
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
    func drive(_ mode: String, _ stepsIn: JSONValue, token: String? = nil, target: String? = nil) throws -> [JSONValue] {
        let r = try run(venv + "/python", [driver, vigilBinary, target ?? config.path, mode, stepsIn.canonical],
                        env: ["VIGIL_AGENT_TOKEN": token ?? self.token])
        let v = try JSONValue.parse(r.out)
        if let failed = v["failed"]?.string { throw GatewayTestFailure(reason: failed + "\n" + r.err) }
        let steps = v["steps"]?.array ?? []
        // One outcome per step plus the protocol line; anything else is a driver failure, not a crash.
        guard steps.count == (stepsIn.array?.count ?? 0) + 1 else {
            throw GatewayTestFailure(reason: "the driver returned \(steps.count) outcomes: \(r.out)\n\(r.err)")
        }
        return steps
    }

    var auditEntries: [JSONValue] {
        ((try? String(contentsOf: audit, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
    }
}

struct GatewayTestFailure: Error, CustomStringConvertible { var reason: String; var description: String { reason } }

let timeServer = #""time": {"command": "\#(venv)/mcp-server-time", "args": ["--local-timezone", "UTC"]}"#
let wrongServer = #""wrong": {"command": "\#(wrongVenv)/mcp-server-everything-wrong", "labels": ["untrusted"]}"#
