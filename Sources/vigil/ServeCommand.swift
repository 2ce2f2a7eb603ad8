import Foundation
import VigilCore
import VigilHTTP
import VigilLearn
import VigilMCP
import VigilServe
import VigilStore

/// `vigil serve`: the live service. Sources in, learning all day, incidents re-investigated,
/// the REST API and the web console on one port; restart-safe and stopped cleanly by SIGTERM.
enum ServeCommand {
    static let help = """
    usage: vigil serve --config FILE [--check]
           vigil serve token NAME ROLE          a new API token (roles: viewer, analyst, admin)
           vigil serve example-config           a commented configuration to start from
    """

    static func run(_ a: ArraySlice<String>) throws -> Int32 {
        switch a.first {
        case "token": return try token(a.dropFirst())
        case "example-config": print(ServeConfiguration.example, terminator: ""); return 0
        case "help", "--help", "-h", nil: print(help); return a.isEmpty ? 1 : 0
        default: break
        }
        let args = try Arguments(a, flags: ["check"])
        try args.allowOnly(["config"])
        guard let path = args.options["config"] else { throw VigilError.usage("serve needs --config FILE\n" + help) }
        let config: ServeConfiguration
        do { config = try ServeConfiguration.read(path) } catch let p as ServeConfiguration.Problem {
            err("vigil: \(p)")
            return 1
        }
        if args.flags.contains("check") {
            print("\(path): valid; \(config.sources.count) source(s), \(config.tokens.count) token(s), store \(config.store), listening on \(config.listen)")
            return 0
        }
        return try serve(config)
    }

    static func token(_ a: ArraySlice<String>) throws -> Int32 {
        guard a.count == 2, let role = Role(rawValue: a[a.startIndex + 1]) else {
            throw VigilError.usage("vigil serve token NAME ROLE (ROLE is viewer, analyst or admin)")
        }
        let name = a[a.startIndex]
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.@".contains($0) }) else {
            throw VigilError.usage("a token name is letters, digits and - _ . @")
        }
        let secret = "vgl_" + Sodium.hex(Sodium.random(24))
        print("secret (give it to \(name); it is shown once): \(secret)")
        print("configuration line:\ntoken \(name) \(role.rawValue) \(Sodium.sha256Hex(secret))")
        return 0
    }

    static func logLine(_ s: String) {
        err("\(Date().formatted(.iso8601)) vigil serve: \(s)")
    }

    static func serve(_ config: ServeConfiguration) throws -> Int32 {
        let dir = (config.store as NSString).deletingLastPathComponent
        if !dir.isEmpty, !FileManager.default.fileExists(atPath: dir) {
            throw VigilError.usage("the store's directory '\(dir)' does not exist")
        }
        let store = try SQLiteStore(path: config.store)
        let started = Timestamp(seconds: Int64(Date().timeIntervalSince1970))
        let status = ServiceStatus(version: "vigil 0.1.0", startedAt: started)
        let events = EventHub()
        let pipeline = try LivePipeline(config: config, store: store, status: status, events: events, log: logLine)

        var apiConfig = API.Configuration(tokens: config.tokens)
        apiConfig.models = ModelRegistry.all(pipeline.learner.configuration).map { ($0.name, $0.summary) }
        let api = API(configuration: apiConfig, pool: try StorePool(path: config.store, size: config.apiConnections),
                      status: status, events: events, hash: { Sodium.sha256Hex($0) })
        var o = HTTPServer.Options()
        let colon = config.listen.lastIndex(of: ":")!
        o.address = String(config.listen[..<colon])
        o.port = UInt16(config.listen[config.listen.index(after: colon)...]) ?? 8640
        o.maxBodyBytes = 64 << 10
        if let cert = config.tlsCertificate, let key = config.tlsKey {
            guard let c = try? String(contentsOfFile: cert, encoding: .utf8) else { throw VigilError.usage("cannot read tls_certificate '\(cert)'") }
            guard let k = try? String(contentsOfFile: key, encoding: .utf8) else { throw VigilError.usage("cannot read tls_key '\(key)'") }
            o.tlsCertificate = c
            o.tlsKey = k
        }
        let server = HTTPServer(options: o) { api.handle($0) }
        try server.start()
        logLine("API and console on \(server.url)/ (OpenAPI at /api/openapi.json, metrics at /metrics)")

        try pipeline.startSources()
        let learned = DispatchSemaphore(value: 0)
        let terminate = TerminationSignals()
        let learnerThread = Thread {
            pipeline.learn()
            learned.signal()
        }
        learnerThread.stackSize = 8 << 20
        learnerThread.start()
        // Replays end by themselves; the console stays up until a signal.
        DispatchQueue.global().async {
            learned.wait()
            if !pipeline.stopping { logLine("every source has ended; still serving the API (SIGTERM stops)") }
            learned.signal()
        }
        terminate.wait()
        logLine("stopping: closing sources, writing a last checkpoint")
        pipeline.stop()
        learned.wait()
        events.closeAll()
        server.stop()
        logLine("stopped cleanly")
        return 0
    }
}
