import Foundation
import VigilMCP

/// `vigil mcp proxy` over stdio: the MCP client spawns the gateway, the gateway spawns every
/// upstream server, and one agent (named by its token) speaks through it for the session.
public final class StdioGateway: @unchecked Sendable {
    private let session: GatewaySession
    private let client: LineChannel
    private let done = DispatchSemaphore(value: 0)

    /// Fails closed: an unreadable policy or lockfile, an unknown token or a broken audit log
    /// stops it before any upstream starts.
    public init(config: GatewayConfig, token: String, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) throws {
        guard let agent = config.agent(forTokenSHA256: Sodium.sha256Hex(token)) else {
            throw MCPError.policy("the agent token matches no agent in the configuration", place: "VIGIL_AGENT_TOKEN")
        }
        let setup = try GatewaySetup(config: config)
        let client = LineChannel(name: "client", input: 0, output: 1, maxLine: config.maxMessageBytes)
        self.client = client
        session = try GatewaySession(config: config, agent: agent, lockfile: setup.lockfile, audit: setup.audit,
                                     clock: clock, toClient: { m in client.send(m) })
    }

    /// Runs until the client closes stdin; returns the exit status.
    public func run() throws -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        try session.start()
        client.start(onLine: { [weak self] line in self?.fromClient(line) },
                     onTooLong: { [weak self] n in
                        self?.client.send(RPCMessage.error(id: .null, code: RPCMessage.Code.invalidRequest, message: "message of \(n) bytes is over the gateway's limit", data: nil)) },
                     onEnd: { [weak self] in self?.done.signal() })
        done.wait()
        session.stop()
        return 0
    }

    private func fromClient(_ line: String) {
        do { session.receive(try RPCMessage.parse(line)) } catch let e as MCPError {
            let code = e.isParse ? RPCMessage.Code.parseError : RPCMessage.Code.invalidRequest
            client.send(RPCMessage.error(id: .null, code: code, message: e.description, data: nil))
        } catch {}
    }
}
