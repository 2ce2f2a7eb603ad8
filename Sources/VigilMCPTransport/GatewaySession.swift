import Foundation
import VigilMCP

/// One agent session of the gateway with its own upstream server processes: the `Gateway` core
/// behind a lock, the upstreams' stdio, the shared audit log and approvals. The front end (stdio or
/// HTTP) hands it client messages and gets the messages meant for the client through `toClient`.
final class GatewaySession: @unchecked Sendable {
    private var gateway: Gateway
    private let lock = NSLock()
    private var upstreams: [String: any UpstreamConnection] = [:]
    private let audit: AuditFile?
    private let approvals: ApprovalDirectory?
    private let clock: @Sendable () -> Double
    private let toClient: @Sendable (RPCMessage) -> Void
    let agent: String
    private(set) var lastUsed: Double

    init(config: GatewayConfig, agent: GatewayConfig.Agent, lockfile: Lockfile?, audit: AuditFile?,
         clock: @escaping @Sendable () -> Double, toClient: @escaping @Sendable (RPCMessage) -> Void) throws {
        gateway = Gateway(config: config, agent: agent, lockfile: lockfile)
        self.audit = audit
        approvals = config.approvalsDirectory.map(ApprovalDirectory.init(path:))
        self.clock = clock
        self.toClient = toClient
        self.agent = agent.name
        lastUsed = clock()
        for (name, server) in config.servers.sorted(by: { $0.key < $1.key }) {
            upstreams[name] = server.url != nil ? try HTTPUpstream(server: server, maxBody: config.maxMessageBytes)
                                                : try StdioUpstream(server: server, maxLine: config.maxMessageBytes)
        }
    }

    func start() throws {
        for (name, u) in upstreams {
            try u.start(onMessage: { [weak self] line in self?.fromUpstream(name, line) },
                        onExit: { [weak self] why in self?.upstreamEnded(name, why) })
        }
        perform(locked { g in g.start(now: clock()) })
    }

    func stop() {
        for u in upstreams.values { u.stop() }
        audit?.sync()
    }

    /// The input schema of a tool as offered to the agent (nil before the tools are listed).
    func inputSchema(of tool: String) -> JSONValue? {
        lock.lock(); defer { lock.unlock() }
        return gateway.tools[tool]?.definition["inputSchema"]
    }

    func receive(_ message: RPCMessage) {
        let dir = approvals
        lastUsed = clock()
        perform(locked { g in g.fromClient(message, now: clock(), approved: { key in dir?.isApproved(key) ?? false }) })
    }

    private func locked(_ body: (inout Gateway) -> [Gateway.Effect]) -> [Gateway.Effect] {
        lock.lock(); defer { lock.unlock() }
        return body(&gateway)
    }

    private func fromUpstream(_ name: String, _ line: String) {
        guard let message = try? RPCMessage.parse(line) else {
            logLine("upstream \(name) wrote a line that is not JSON-RPC; ignored")
            return
        }
        perform(locked { g in g.fromUpstream(name, message, now: clock()) })
    }

    private func upstreamEnded(_ name: String, _ why: String) {
        perform(locked { g in g.upstreamClosed(name, reason: why, now: clock()) })
    }

    /// Messages leave first, then the audit entries and log lines of the same step are written
    /// (signing and writing an entry is most of the gateway's own time per call, and no one
    /// should wait for it); the next message is handled only after they are written.
    private func perform(_ effects: [Gateway.Effect]) {
        for e in effects {
            switch e {
            case .toClient(let m): toClient(m)
            case .toUpstream(let server, let m): upstreams[server]?.send(m)
            default: continue
            }
        }
        for e in effects {
            switch e {
            case .toClient, .toUpstream: continue
            case .audit(let entry):
                do { try audit?.append(entry.json) } catch {
                    // The audit log is the gateway's promise; without it, stop.
                    logLine("audit log failed (\(error)); stopping")
                    exit(1)
                }
            case .log(let s): logLine(s)
            case .held(let key, let call):
                approvals?.hold(key, call: call)
            }
        }
    }
}

func logLine(_ s: String) { FileHandle.standardError.write(Data("vigil-mcp: \(s)\n".utf8)) }

/// What every front end does first, failing closed: the lockfile verified and the audit log opened.
struct GatewaySetup {
    let lockfile: Lockfile?
    let audit: AuditFile?

    init(config: GatewayConfig) throws {
        lockfile = try Self.lockfile(config)
        audit = try Self.auditKey(config).map { try AuditFile(path: $0.log, secretKey: $0.key) }
    }

    /// The lockfile the configuration names, its signature verified.
    static func lockfile(_ config: GatewayConfig) throws -> Lockfile? {
        guard let path = config.lockfile else { return nil }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw MCPError.lockfile("cannot read", place: path) }
        let l = try Lockfile.parse(text, file: path)
        try l.verify(trustedKeys: config.trustedKeys, file: path)
        return l
    }

    /// The audit log's path and the secret key that signs it, when the configuration keeps one.
    static func auditKey(_ config: GatewayConfig) throws -> (log: String, key: [UInt8])? {
        guard let log = config.auditLog else { return nil }
        guard let keyPath = config.auditKey else { throw MCPError.policy("an audit log needs audit.key to sign it", place: "audit") }
        return (log, try KeyFile.readSecret(keyPath))
    }
}
