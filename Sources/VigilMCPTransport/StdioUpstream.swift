import Foundation
import VigilMCP

/// An upstream MCP server spawned as a process and spoken to over its stdin and stdout. It gets
/// only the environment its configuration names plus PATH, HOME, LANG and TMPDIR: no agent token
/// or other secret of the gateway's reaches it. Its stderr is passed on, prefixed with its name.
final class StdioUpstream: @unchecked Sendable {
    let name: String
    let process = Process()
    let channel: LineChannel
    private let stdinPipe = Pipe(), stdoutPipe = Pipe(), stderrPipe = Pipe()

    init(server: GatewayConfig.Server, maxLine: Int) throws {
        name = server.name
        guard let exe = server.command.first else { throw MCPError.policy("no command", place: "servers.\(server.name)") }
        let path = exe.contains("/") ? exe : Self.which(exe)
        guard let path else { throw MCPError.policy("command '\(exe)' is not on PATH", place: "servers.\(server.name).command") }
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = Array(server.command.dropFirst())
        var env: [String: String] = [:]
        let mine = ProcessInfo.processInfo.environment
        for k in ["PATH", "HOME", "LANG", "TMPDIR"] { if let v = mine[k] { env[k] = v } }
        for (k, v) in server.env { env[k] = v }
        process.environment = env
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        channel = LineChannel(name: server.name, input: stdoutPipe.fileHandleForReading.fileDescriptor,
                              output: stdinPipe.fileHandleForWriting.fileDescriptor, maxLine: maxLine)
    }

    func run(onExit: @escaping @Sendable (String) -> Void) throws {
        process.terminationHandler = { p in onExit("exit status \(p.terminationStatus)") }
        do { try process.run() } catch {
            throw MCPError.policy("could not start: \(error.localizedDescription)", place: "servers.\(name).command")
        }
        let errFD = stderrPipe.fileHandleForReading.fileDescriptor, label = name
        let t = Thread {
            var buf = [UInt8](repeating: 0, count: 4096)
            var pendingLine: [UInt8] = []
            while true {
                let n = buf.withUnsafeMutableBytes { read(errFD, $0.baseAddress, 4096) }
                if n <= 0 { break }
                for b in buf[0..<n] {
                    if b == 0x0A {
                        FileHandle.standardError.write(Data("[\(label)] ".utf8) + Data(pendingLine.prefix(2000)) + Data([0x0A]))
                        pendingLine.removeAll(keepingCapacity: true)
                    } else if pendingLine.count < 4096 { pendingLine.append(b) }
                }
            }
        }
        t.start()
    }

    /// Closes its stdin (a stdio server's cue to exit), then ends it: SIGTERM, and SIGKILL after 2 s.
    func stop() {
        channel.closeOutput()
        let pid = process.processIdentifier
        guard process.isRunning, pid > 0 else { return }
        for _ in 0..<20 where process.isRunning { usleep(50_000) }
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        for _ in 0..<40 where process.isRunning { usleep(50_000) }
        if process.isRunning { kill(pid, SIGKILL) }
    }

    static func which(_ exe: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(exe)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }
}
