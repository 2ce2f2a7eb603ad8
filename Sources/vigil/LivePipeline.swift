import Foundation
import Synchronization
import VigilAnalyst
import VigilCapture
import VigilCore
import VigilHTTP
import VigilLearn
import VigilMCP
import VigilMCPTransport
import VigilServe
import VigilStore
import VigilWire

/// Observations handed from the source threads to the learner's thread. Bounded: when the
/// learner falls behind, sources wait, and a live capture's kernel buffer fills and drops,
/// which libpcap counts and the status shows; memory does not grow.
final class ObservationQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Observation] = []
    private let limit: Int
    private var producers: Int
    private var stopping = false

    init(limit: Int, producers: Int) { self.limit = limit; self.producers = producers }

    func push(_ batch: [Observation]) {
        guard !batch.isEmpty else { return }
        condition.lock()
        while items.count >= limit && !stopping { condition.wait() }
        items.append(contentsOf: batch)
        condition.broadcast()
        condition.unlock()
    }

    func producerDone() {
        condition.lock(); producers -= 1; condition.broadcast(); condition.unlock()
    }

    /// Stops waiting producers (shutdown); what they hold is still accepted.
    func stop() { condition.lock(); stopping = true; condition.broadcast(); condition.unlock() }

    /// Everything queued (waiting up to `timeout` for something); `finished` once every
    /// producer is done and the queue is empty.
    func take(timeout: Double) -> (batch: [Observation], finished: Bool) {
        condition.lock()
        defer { condition.unlock() }
        if items.isEmpty && producers > 0 { _ = condition.wait(until: Date().addingTimeInterval(timeout)) }
        let out = items
        items.removeAll(keepingCapacity: true)
        condition.broadcast()
        return (out, out.isEmpty && producers == 0)
    }
}

/// `vigil serve`'s engine: source threads (live interfaces, Zeek directories, replayed
/// captures) decode into observations; one thread learns, stores, checkpoints and
/// re-investigates. Restart-safe: the store is the journal. A checkpoint writes the learner's
/// state, the breaches found and the device directory in one transaction with the id of
/// the last observation seen; on start, the state is restored and the observations stored
/// after it are replayed, so nothing committed is lost and learning resumes where it was.
final class LivePipeline: @unchecked Sendable {
    static let run: Int64 = 0   // serve's findings live under run 0 in the store

    let config: ServeConfiguration
    let store: SQLiteStore
    let status: ServiceStatus
    let events: EventHub
    let learner: Learner
    let analystConfig: AnalystConfiguration
    let queue: ObservationQueue
    let log: (String) -> Void
    private let stopFlag = Atomic<Bool>(false)
    private let sourcesLock = NSLock()
    private var live: [LivePcapSource] = []
    private var pending: [String: Breach] = [:]
    private var lastCheckpointAt: Timestamp?
    private var incidentsSeen: [String: (Int, Double)] = [:]
    /// Something stored since the last analysis (the analysis reads only the store).
    private var dirty = false
    /// Something arrived (observations, breaches, alerts) that the next checkpoint stores.
    private var unsaved = false
    private var replayedFiles: Set<String> = []
    /// AI agents behind the MCP gateway, learned from its audit log. Not checkpointed: the log
    /// is read again from its start after a restart, which rebuilds the same state and the same
    /// breach and alert ids (both are stable), so nothing is counted twice.
    let agentLearner: AgentLearner
    private let inboxLock = NSLock()
    private var inboxCalls: [ToolCall] = []
    private var inboxAlerts: [Alert] = []
    private var pendingAlerts: [String: Alert] = [:]

    init(config: ServeConfiguration, store: SQLiteStore, status: ServiceStatus, events: EventHub, log: @escaping (String) -> Void) throws {
        self.config = config; self.store = store; self.status = status; self.events = events; self.log = log
        var c = LearnConfiguration()
        c.baseline = Duration(nanoseconds: Int64(config.baselineDays * 86_400e9))
        c.utcOffsetHours = config.utcOffsetHours
        if let b = config.budget { c.budgetPerDeviceDay = b }
        var a = AnalystConfiguration()
        if let nets = config.localNetworks { c.localNetworks = nets; c.trustRecordLocality = false; a.localNetworks = nets }
        learner = Learner(configuration: c)
        var ac = AgentLearner.Configuration()
        ac.utcOffsetHours = config.utcOffsetHours
        agentLearner = AgentLearner(configuration: ac)
        analystConfig = a
        queue = ObservationQueue(limit: config.queueLimit, producers: config.sources.count)
        status.update { $0.utcOffsetHours = config.utcOffsetHours }
        try restore()
    }

    // MARK: - Restart

    /// The saved learner state, then every observation stored after it.
    private func restore() throws {
        if let names = try store.loadState("serve.replayed") {
            replayedFiles = Set(String(decoding: names, as: UTF8.self).split(separator: "\n").map(String.init))
        }
        guard let saved = try store.loadState("learner") else { return }
        try learner.restore(saved)
        var position = try store.checkpointPosition() ?? 0
        var replayed: UInt64 = 0
        while true {
            let batch = try store.observations(after: position, limit: 10_000)
            guard let last = batch.last else { break }
            for (_, o) in batch { learner.observe(o) }
            for b in learner.drainBreaches() { pending[b.id] = b }
            replayed += UInt64(batch.count)
            position = last.0
        }
        let stored = try store.tableCounts()
        status.update {
            $0.replayedAtStart = replayed
            $0.observations = UInt64(stored["observations"] ?? 0)
            $0.breaches = UInt64(stored["breaches"] ?? 0)
            $0.devices = learner.context.deviceCount
            $0.observedUpTo = learner.context.started == nil ? nil : learner.context.now
        }
        log("restored the learner (observed up to \(learner.context.now.iso8601)); replayed \(replayed) observations stored after its last checkpoint")
        if replayed > 0 || !pending.isEmpty { try checkpoint() }
    }

    // MARK: - Sources

    func stop() {
        stopFlag.store(true, ordering: .relaxed)
        sourcesLock.lock(); let l = live; sourcesLock.unlock()
        l.forEach { $0.stop() }
        queue.stop()
    }

    var stopping: Bool { stopFlag.load(ordering: .relaxed) }

    /// Starts a thread per source. Throws before any thread starts when a source cannot open.
    func startSources() throws {
        var wire = WireConfiguration()
        if let m = config.maxFlows { wire.maxFlows = m }
        var starts: [() -> Void] = []
        for (index, source) in config.sources.enumerated() {
            switch source {
            case .capture(let interface, let filter):
                let s = try LivePcapSource(interface: interface, filter: filter)
                sourcesLock.lock(); live.append(s); sourcesLock.unlock()
                status.update { $0.sources.append(.init(name: interface, kind: "capture")) }
                starts.append { [self] in capture(s, index: index, wire: wire, live: true, skipThrough: nil) }
            case .replay(let file):
                let key = Self.fileKey(file)
                guard !replayedFiles.contains(key) else {
                    log("\(file): already replayed into this store; skipped")
                    status.update { var s = ServiceStatus.Source(name: file, kind: "replay"); s.error = "already replayed"; s.ended = true; $0.sources.append(s) }
                    starts.append { [self] in queue.producerDone() }
                    continue
                }
                let s = try CaptureFiles.open(file)
                status.update { $0.sources.append(.init(name: file, kind: "replay")) }
                // A replay cut short by a crash starts again; what was stored is not stored twice.
                let through = try store.lastObservationTime()
                starts.append { [self] in
                    capture(s, index: index, wire: wire, live: false, skipThrough: through)
                    if !stopping { markReplayed(key) }
                }
            case .agents(let audit, let keyPath):
                let key = try keyPath.map(KeyFile.readPublic)
                guard FileManager.default.fileExists(atPath: audit) else { throw VigilError.usage("agents: no such audit log '\(audit)'") }
                status.update { $0.sources.append(.init(name: audit, kind: "mcp-audit")) }
                let follower = AgentAuditFollower(path: audit, key: key)
                starts.append { [self] in followAgents(follower, index: index) }
            case .alerts(let file):
                guard FileManager.default.fileExists(atPath: file) else { throw VigilError.usage("alerts: no such file '\(file)'") }
                status.update { $0.sources.append(.init(name: file, kind: "alerts")) }
                let follower = AlertFollower(path: file)
                starts.append { [self] in followAlerts(follower, index: index) }
            case .zeek(let dir):
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                    throw VigilError.usage("zeek: '\(dir)' is not a directory")
                }
                status.update { $0.sources.append(.init(name: dir, kind: "zeek")) }
                starts.append { [self] in follow(ZeekLogFollower(root: dir), index: index) }
            }
        }
        // Each job owns its source from here on: handed to exactly one thread.
        struct Job: @unchecked Sendable { let run: () -> Void }
        for start in starts.map(Job.init) {
            let t = Thread { start.run() }
            t.stackSize = 4 << 20
            t.start()
        }
    }

    private let replayLock = NSLock()
    private var newlyReplayed: [String] = []

    private func markReplayed(_ key: String) {
        replayLock.lock(); newlyReplayed.append(key); replayLock.unlock()
    }

    static func fileKey(_ path: String) -> String {
        let attrs = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (attrs?[.size] as? NSNumber)?.int64Value ?? -1
        let mtime = (attrs?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "\((path as NSString).standardizingPath)|\(size)|\(Int64(mtime))"
    }

    /// One packet source through its own decoder and flow table.
    private func capture(_ source: PacketSource, index: Int, wire: WireConfiguration, live: Bool, skipThrough: Timestamp?) {
        defer { queue.producerDone() }
        let engine = PacketEngine(configuration: wire)
        var batch: [Observation] = []
        batch.reserveCapacity(512)
        var lastReport = DispatchTime.now().uptimeNanoseconds
        func flush() {
            if engine.hasOutput {
                engine.drain { o in if skipThrough.map({ o.ts > $0 }) ?? true { batch.append(o) } }
            }
            if !batch.isEmpty { queue.push(batch); batch.removeAll(keepingCapacity: true) }
        }
        func report() {
            let drops = (source as? LivePcapSource)?.drops()
            let packets = engine.stats.packets, flows = engine.activeFlows
            status.update { s in
                guard index < s.sources.count else { return }
                s.sources[index].packets = packets
                if let d = drops { s.sources[index].dropped = UInt64(d.1); s.sources[index].interfaceDropped = UInt64(d.2) }
                s.activeFlows = flows
            }
        }
        if let l = source as? LivePcapSource {
            l.onIdle = {
                engine.advance(to: Timestamp(seconds: Int64(Date().timeIntervalSince1970)))
                flush()
                report()
            }
        }
        do {
            // Per packet: decode, and hand over a batch when it fills. Every 1,024 packets: the
            // once-a-second report and, for a replay, the stop flag.
            var n: UInt32 = 0
            while let (buf, ts, link) = try source.next() {
                engine.process(buf, link: link, at: ts)
                if engine.output.count >= 256 { flush() }
                n &+= 1
                if n & 0x3FF == 0 {
                    let now = DispatchTime.now().uptimeNanoseconds
                    if now - lastReport > 1_000_000_000 { lastReport = now; flush(); report() }
                    if !live && stopping { break }
                }
            }
        } catch {
            log("\(source.name): \(error)")
            status.update { if index < $0.sources.count { $0.sources[index].error = "\(error)" } }
        }
        engine.finish()
        flush()
        report()
        (source as? LivePcapSource)?.onIdle = nil
        status.update { if index < $0.sources.count { $0.sources[index].ended = true } }
    }

    private func follow(_ f: ZeekLogFollower, index: Int) {
        defer { queue.producerDone() }
        var reported = 0
        while !stopping {
            var batch: [Observation] = []
            f.poll { batch.append($0) }
            queue.push(batch)
            status.update { if index < $0.sources.count { $0.sources[index].records = UInt64(f.rows) } }
            for e in f.errors.dropFirst(reported) { log("zeek: \(e)") }
            reported = f.errors.count
            for _ in 0..<10 where !stopping { usleep(100_000) }
        }
    }

    private func followAgents(_ f: AgentAuditFollower, index: Int) {
        defer { queue.producerDone() }
        var warned = false
        while !stopping {
            let (calls, alerts, problems) = f.poll()
            for p in problems.prefix(5) { log("agents: \(p)") }
            if !calls.isEmpty || !alerts.isEmpty {
                inboxLock.lock(); inboxCalls += calls; inboxAlerts += alerts; inboxLock.unlock()
            }
            status.update { if index < $0.sources.count { $0.sources[index].records = UInt64(f.records); $0.sources[index].error = f.broken } }
            if let b = f.broken, !warned { log("agents: the audit chain breaks at \(b)"); warned = true }
            for _ in 0..<10 where !stopping { usleep(100_000) }
        }
    }

    private func followAlerts(_ f: AlertFollower, index: Int) {
        defer { queue.producerDone() }
        while !stopping {
            let alerts = f.poll()
            if !alerts.isEmpty { inboxLock.lock(); inboxAlerts += alerts; inboxLock.unlock() }
            for p in f.newProblems() { log("alerts: \(p)") }
            status.update { if index < $0.sources.count { $0.sources[index].records = UInt64(f.records) } }
            for _ in 0..<10 where !stopping { usleep(100_000) }
        }
    }

    /// The agents' calls and the gateway's findings that arrived since the last look.
    private func learnAgents() -> Bool {
        inboxLock.lock()
        let calls = inboxCalls, alerts = inboxAlerts
        inboxCalls = []; inboxAlerts = []
        inboxLock.unlock()
        guard !calls.isEmpty || !alerts.isEmpty else { return false }
        for c in calls.sorted(by: { $0.time < $1.time }) { agentLearner.observe(c) }
        for b in agentLearner.drainBreaches() {
            pending[b.id] = b
            if b.score >= 50 { events.publish(event: "breach", data: Self.json(b)) }
        }
        for a in alerts { pendingAlerts[a.id] = a }
        return true
    }

    // MARK: - The learner's thread

    /// Learns until every source is done (or stopped); checkpoints and re-investigates as it goes.
    func learn() {
        let onlyReplays = config.sources.allSatisfy { if case .replay = $0 { return true }; return false }
        var lastCheckpoint = DispatchTime.now().uptimeNanoseconds, lastAnalysis = lastCheckpoint, lastPrune: UInt64 = 0
        let checkpointEvery = UInt64(config.checkpointSeconds * 1e9), analyzeEvery = UInt64(config.analyzeSeconds * 1e9)
        while true {
            let (batch, finished) = queue.take(timeout: 0.5)
            if learnAgents() { unsaved = true }
            for o in batch {
                learner.observe(o)
                do { try store.consume(o) } catch { log("store: \(error)"); stop() }
            }
            if !batch.isEmpty {
                unsaved = true
                for b in learner.drainBreaches() {
                    pending[b.id] = b
                    if b.score >= 50 { events.publish(event: "breach", data: Self.json(b)) }
                }
                let ctx = learner.context
                status.update {
                    $0.observations += UInt64(batch.count)
                    $0.devices = ctx.deviceCount
                    $0.observedUpTo = ctx.now
                    $0.learnerLagSeconds = max(0, Date().timeIntervalSince1970 - ctx.now.seconds)
                    $0.learning = ctx.isLearning
                }
            }
            if finished {
                if onlyReplays && !stopping {
                    learner.finish()   // the input ended: let every model judge what is open
                    for b in learner.drainBreaches() { pending[b.id] = b }
                }
                break
            }
            let now = DispatchTime.now().uptimeNanoseconds
            if now - lastCheckpoint >= checkpointEvery { lastCheckpoint = now; safely("checkpoint", checkpoint) }
            if now - lastAnalysis >= analyzeEvery, dirty { lastAnalysis = now; safely("analysis", analyze) }
            if now - lastPrune >= 3_600_000_000_000 { lastPrune = now; safely("retention", prune) }
        }
        safely("checkpoint", checkpoint)
        safely("analysis", analyze)
        if !stopping { status.update { $0.caughtUp = true } }
    }

    private func safely(_ what: String, _ body: () throws -> Void) {
        do { try body() } catch { log("\(what) failed: \(error)") }
    }

    /// Learner state, new breaches and the device directory, durable together.
    func checkpoint() throws {
        let t = learner.context.now
        let devices = learner.deviceSummaries(since: lastCheckpointAt.map { $0 - .seconds(3600) })
        let breaches = Breach.latestVersions(Array(pending.values))
        _ = try store.checkpoint(state: try learner.snapshot(), at: t, breaches: breaches, alerts: Array(pendingAlerts.values), devices: devices, run: Self.run)
        pendingAlerts = [:]
        replayLock.lock()
        let done = newlyReplayed
        newlyReplayed = []
        replayLock.unlock()
        if !done.isEmpty {
            replayedFiles.formUnion(done)
            try store.saveState("serve.replayed", Data(replayedFiles.sorted().joined(separator: "\n").utf8), at: t)
        }
        pending = [:]
        lastCheckpointAt = t
        // The analysis reads the store: what arrived is worth a new look once it is stored.
        if unsaved { dirty = true; unsaved = false }
        let counts = try store.tableCounts()
        status.update {
            $0.checkpoints += 1
            $0.generation += 1
            $0.lastCheckpoint = t
            $0.breaches = UInt64(counts["breaches"] ?? 0)
        }
        events.publish(event: "checkpoint", data: "{\"observedUpTo\":\"\(t.iso8601)\"}")
    }

    /// Re-investigates the breaches of the incident window; publishes incidents that are new
    /// or changed.
    func analyze() throws {
        dirty = false
        let since = learner.context.now - Duration(nanoseconds: Int64(config.incidentWindowDays * 86_400e9))
        var f = BreachFilter()
        f.since = since
        f.limit = 50_000
        let breaches = AnalyzeCommand.rank(try store.breaches(f))
        let analyst = Analyst(configuration: analystConfig, directory: AnalyzeCommand.directory(learner))
        let result = analyst.investigate(breaches: breaches, alerts: try store.alerts(since: since, limit: 50_000), query: store)
        try store.replaceIncidents(result.incidents, run: Self.run, since: since)
        if incidentsSeen.count > 100_000 { incidentsSeen = [:] }   // bounded; at worst events repeat once
        for i in result.incidents {
            let sig = (i.breaches.count + i.alerts.count, i.priority)
            if let old = incidentsSeen[i.id], old == sig { continue }
            incidentsSeen[i.id] = sig
            events.publish(event: "incident", data: Self.json(["id": i.id, "title": i.title, "score": String(format: "%.1f", i.priority)]))
        }
        let all = try store.incidents(), statuses = try store.incidentStatuses()
        status.update {
            $0.generation += 1
            $0.incidents = all.count
            $0.openIncidents = all.filter { ["open", "acknowledged"].contains(statuses[$0.id]?.status ?? "open") }.count
        }
    }

    func prune() throws {
        let now = learner.context.now
        guard learner.context.started != nil else { return }
        let n = try store.prune(observationsBefore: now - Duration(nanoseconds: Int64(config.keepObservationsDays * 86_400e9)),
                                findingsBefore: now - Duration(nanoseconds: Int64(config.keepFindingsDays * 86_400e9)))
        if n > 0 { log("retention: removed \(n) observations older than \(config.keepObservationsDays) days") }
        status.update { $0.pruned += UInt64(n); if n > 0 { $0.generation += 1 } }
    }

    static func json<T: Encodable>(_ v: T) -> String {
        (try? String(decoding: AnalysisReport.encoder(pretty: false).encode(v), as: UTF8.self)) ?? "{}"
    }
}
