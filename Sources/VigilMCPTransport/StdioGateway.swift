import Foundation
import VigilMCP

/// `vigil mcp proxy` over stdio: the MCP client spawns the gateway, the gateway spawns every
/// upstream server, and one agent (named by its token) speaks through it for the session.
/// All state lives in one `Gateway` value behind a lock; threads only read and write lines.
public final class StdioGateway: @unchecked Sendable {
    private var gateway: Gateway
    private let lock = NSLock()
    private let client: LineChannel
    private var upstreams: [String: StdioUpstream] = [:]
    private let audit: AuditFile?
    private let approvals: String?
    private let done = DispatchSemaphore(value: 0)
    private let clock: @Sendable () -> Double

    /// Fails closed: an unreadable policy or lockfile, an unknown token or a broken audit log
    /// stops it before any upstream starts.
    public init(config: GatewayConfig, token: String, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) throws {
        guard let agent = config.agent(forTokenSHA256: Sodium.sha256Hex(token)) else {
            throw MCPError.policy("the agent token matches no agent in the configuration", place: "VIGIL_AGENT_TOKEN")
        }
        var lock: Lockfile?
        if let path = config.lockfile {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw MCPError.lockfile("cannot read", place: path) }
            let l = try Lockfile.parse(text, file: path)
            try l.verify(trustedKeys: config.trustedKeys, file: path)
            lock = l
        }
        if let log = config.auditLog {
            guard let keyPath = config.auditKey else { throw MCPError.policy("an audit log needs audit.key to sign it", place: "audit") }
            audit = try AuditFile(path: log, secretKey: try KeyFile.readSecret(keyPath))
        } else {
            audit = nil
        }
        approvals = config.approvalsDirectory
        gateway = Gateway(config: config, agent: agent, lockfile: lock)
        client = LineChannel(name: "client", input: 0, output: 1, maxLine: config.maxMessageBytes)
        self.clock = clock
        for (name, server) in config.servers.sorted(by: { $0.key < $1.key }) {
            guard server.url == nil || !server.command.isEmpty else {
                throw MCPError.policy("Streamable HTTP upstreams are not served by this build yet; use a command", place: "servers.\(name).url")
            }
            upstreams[name] = try StdioUpstream(server: server, maxLine: config.maxMessageBytes)
        }
    }

    /// Runs until the client closes stdin; returns the exit status.
    public func run() throws -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        for (name, u) in upstreams {
            try u.run(onExit: { [weak self] why in self?.upstreamEnded(name, why) })
            u.channel.start(onLine: { [weak self] line in self?.fromUpstream(name, line) },
                            onTooLong: { [weak self] n in self?.log("upstream \(name) sent a \(n)-byte line, over the limit; dropped") },
                            onEnd: {})
        }
        perform(locked { g in g.start(now: clock()) })
        client.start(onLine: { [weak self] line in self?.fromClient(line) },
                     onTooLong: { [weak self] n in
                        self?.client.send(RPCMessage.error(id: .null, code: RPCMessage.Code.invalidRequest, message: "message of \(n) bytes is over the gateway's limit", data: nil).line) },
                     onEnd: { [weak self] in self?.done.signal() })
        done.wait()
        for u in upstreams.values { u.stop() }
        audit?.sync()
        return 0
    }

    private func locked(_ body: (inout Gateway) -> [Gateway.Effect]) -> [Gateway.Effect] {
        lock.lock(); defer { lock.unlock() }
        return body(&gateway)
    }

    private func fromClient(_ line: String) {
        let message: RPCMessage
        do { message = try RPCMessage.parse(line) } catch let e as MCPError {
            let code = e.isParse ? RPCMessage.Code.parseError : RPCMessage.Code.invalidRequest
            client.send(RPCMessage.error(id: .null, code: code, message: e.description, data: nil).line)
            return
        } catch { return }
        let dir = approvals
        perform(locked { g in g.fromClient(message, now: clock(), approved: { key in Self.isApproved(key, dir: dir) }) })
    }

    private func fromUpstream(_ name: String, _ line: String) {
        guard let message = try? RPCMessage.parse(line) else {
            log("upstream \(name) wrote a line that is not JSON-RPC; ignored")
            return
        }
        perform(locked { g in g.fromUpstream(name, message, now: clock()) })
    }

    private func upstreamEnded(_ name: String, _ why: String) {
        perform(locked { g in g.upstreamClosed(name, reason: why, now: clock()) })
    }

    private func perform(_ effects: [Gateway.Effect]) {
        for e in effects {
            switch e {
            case .toClient(let m): client.send(m.line)
            case .toUpstream(let server, let m): upstreams[server]?.channel.send(m.line)
            case .audit(let entry):
                do { try audit?.append(entry) } catch {
                    // The audit log is the gateway's promise; without it, stop.
                    log("audit log failed (\(error)); stopping")
                    exit(1)
                }
            case .log(let s): log(s)
            case .held(let key, let call):
                guard let dir = approvals else { continue }
                try? FileManager.default.createDirectory(atPath: dir + "/pending", withIntermediateDirectories: true)
                try? Data(call.canonical.utf8).write(to: URL(fileURLWithPath: "\(dir)/pending/\(key).json"))
            }
        }
    }

    private func log(_ s: String) { FileHandle.standardError.write(Data("vigil-mcp: \(s)\n".utf8)) }

    // MARK: - Approvals: a held call leaves <dir>/pending/<key>.json; `vigil mcp approve` moves it.

    static func isApproved(_ key: String, dir: String?) -> Bool {
        guard let dir else { return false }
        return FileManager.default.fileExists(atPath: "\(dir)/approved/\(key)")
    }

}
