import Foundation
import Testing
import VigilTestSupport
import VigilCapture
import VigilCore
import VigilSim

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let vigilBinary = packageRoot.appendingPathComponent(".build/debug/vigil").path
let webPython = packageRoot.appendingPathComponent(".venv/web/bin/python").path
let schemathesis = packageRoot.appendingPathComponent(".venv/web/bin/schemathesis").path
let drivers = packageRoot.appendingPathComponent("Tests/VigilServeTests/Drivers")

func tempDir(_ name: String = #function) throws -> URL { try makeTempDir("vigil-serve-tests", name) }

func run(_ exe: String, _ args: [String], env: [String: String] = [:], cwd: URL? = nil) throws -> Ran { try runProgram(exe, args, env: env, cwd: cwd) }

/// Starts a Python server from `Drivers` that prints its loopback port on its first line; the
/// caller kills it (SIGKILL: SIGTERM may be blocked in test threads, and is inherited).
func startDriver(_ script: String, _ args: [String] = []) throws -> (Process, Int) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    p.arguments = [drivers.appendingPathComponent(script).path] + args
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    var line = [UInt8](), byte: UInt8 = 0
    while read(out.fileHandleForReading.fileDescriptor, &byte, 1) == 1, byte != 0x0A { line.append(byte) }
    return (p, try #require(Int(String(decoding: line, as: UTF8.self))))
}

/// A token made by `vigil serve token`: the secret to send and the line for the configuration.
struct Token {
    let name: String, role: String, secret: String, line: String
    init(_ name: String, _ role: String) throws {
        let r = try run(vigilBinary, ["serve", "token", name, role])
        try #require(r.status == 0, "vigil serve token failed: \(r.err)")
        let lines = r.out.split(separator: "\n").map(String.init)
        secret = try #require(lines.first?.split(separator: " ").last.map(String.init))
        line = try #require(lines.last)
        self.name = name; self.role = role
    }
}

/// Writes a configuration of `settings` lines plus an admin token into `dir` and starts
/// `vigil serve` on it (inside `namespace` when given).
func startServe(in dir: URL, _ settings: [String], namespace: String? = nil) throws -> (ServeProcess, Token) {
    let admin = try Token("adam", "admin")
    let config = dir.appendingPathComponent("serve.conf")
    try ((settings + [admin.line]).joined(separator: "\n") + "\n").write(to: config, atomically: true, encoding: .utf8)
    return (try ServeProcess(config: config, namespace: namespace), admin)
}

/// A running `vigil serve` (optionally inside a network namespace), its log, and a way to ask it.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let config: URL
    private let lock = NSLock()
    private var logText = ""
    private(set) var baseURL = ""
    let namespace: String?
    /// Extra curl options (a CA certificate for HTTPS).
    var curlOptions: [String] = []

    init(config: URL, namespace: String? = nil) throws {
        self.config = config
        self.namespace = namespace
        if let ns = namespace {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            process.arguments = ["netns", "exec", ns, vigilBinary, "serve", "--config", config.path]
        } else {
            process.executableURL = URL(fileURLWithPath: vigilBinary)
            process.arguments = ["serve", "--config", config.path]
        }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        err.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard !d.isEmpty, let self else { return }
            self.lock.lock(); self.logText += String(decoding: d, as: UTF8.self); self.lock.unlock()
        }
        try process.run()
        // The URL the server printed once listening (port 0 in the configuration: any free port).
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let r = log.range(of: "API and console on "), log.contains("(OpenAPI at") {
                let rest = log[r.upperBound...]
                let url = rest.split(separator: " ").first.map(String.init) ?? ""
                baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
                return
            }
            if !process.isRunning { break }
            usleep(50_000)
        }
        throw ServeFailure(message: "vigil serve did not start: \(log)")
    }

    var log: String { lock.lock(); defer { lock.unlock() }; return logText }

    struct ServeFailure: Error, CustomStringConvertible { var message: String; var description: String { message } }

    /// An HTTP request through curl (inside the namespace when there is one).
    func request(_ path: String, token: String?, method: String = "GET", body: String? = nil, headers: [String] = []) throws -> (status: Int, body: String, headers: String) {
        var args = ["-s", "-S", "-D", "-", "--max-time", "30", "-X", method]
        for h in headers { args += ["-H", h] }
        args += curlOptions
        if let token { args += ["-H", "Authorization: Bearer \(token)"] }
        if let body { args += ["-H", "Content-Type: application/json", "--data-binary", body] }
        args.append(baseURL + path)
        let r = namespace.map { try? run("/usr/sbin/ip", ["netns", "exec", $0, "/usr/bin/curl"] + args) } ?? (try? run("/usr/bin/curl", args))
        guard let r, r.status == 0 else { throw ServeFailure(message: "curl \(path) failed: \(r?.err ?? "")") }
        // Headers, a blank line, then the body.
        guard let split = r.out.range(of: "\r\n\r\n") else { throw ServeFailure(message: "no HTTP answer for \(path)") }
        let head = String(r.out[..<split.lowerBound])
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, String(r.out[split.upperBound...]), head)
    }

    func json(_ path: String, token: String) throws -> [String: Any] {
        let r = try request(path, token: token)
        try #require(r.status == 200, "\(path): \(r.status) \(r.body)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any])
    }

    /// Waits until the status satisfies `ok` (polling), or fails with the log.
    func wait(token: String, seconds: Double = 120, _ what: String, _ ok: ([String: Any]) -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let s = try? json("/api/status", token: token), ok(s) { return }
            guard process.isRunning else { break }
            usleep(200_000)
        }
        throw ServeFailure(message: "waited \(Int(seconds)) s for \(what); log:\n\(log)")
    }

    func terminate() -> Int32 {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }

    func kill9() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

/// A capture whose DHCP host name, HTTP Host and User-Agent and TLS server name are script
/// payloads, as an attacker would send them.
enum HostileCapture {
    static let device = IPAddress("10.66.0.5")!
    static let name = "<img src=x onerror=\"window.__xss='dhcp'\">"
    static let agent = "<script>window.__xss='ua'</script>Mozilla/5.0"
    static let host = "evil.example\"><svg onload=window.__xss='host'>"
    static let sni = "<iframe srcdoc='<script>parent.__xss=1</script>'>.example"

    static func write(_ path: String) throws {
        let t = Timestamp(seconds: 1_733_100_000)
        let s = ScriptedTraffic()
        s.dhcp(mac: 0x0266_0000_0005, address: device, name: name, server: IPAddress("10.66.0.1")!, at: t)
        s.http(client: device, clientMAC: 0x0266_0000_0005, server: IPAddress("203.0.113.80")!, host: host, path: "/<script>alert(1)</script>", agent: agent, at: t + .seconds(5))
        s.tls(client: device, clientMAC: 0x0266_0000_0005, server: IPAddress("203.0.113.44")!, serverName: sni, at: t + .seconds(9))
        let w = try PcapWriter(path: path)
        s.run { ts, frame in w.write(frame, at: ts) }
        w.close()
    }
}
