import Foundation
import VigilCapture
import VigilAnalyst
import VigilCore
import VigilLearn
import VigilMCP
import VigilMCPTransport
import VigilStore
import VigilWire

/// `vigil analyze`: observations from captures or Zeek logs through the learner; a table of
/// the top breaches, a JSON report, and everything in the store.
enum AnalyzeCommand {
    static func run(_ a: ArraySlice<String>) throws -> Int32 {
        let args = try Arguments(a, flags: ["quiet", "fresh"])
        try args.allowOnly(["db", "json", "markdown", "html", "ocsf", "cef", "alerts", "agents", "agent-key", "rephrase", "rephrase-model", "rephrase-timeout", "baseline", "local", "utc-offset", "top", "reader", "max-flows", "budget", "peer-calibration"])
        guard !args.positional.isEmpty || args.options["alerts"] != nil || args.options["agents"] != nil else {
            throw VigilError.usage("analyze needs capture files or Zeek log directories (or --alerts FILE to correlate outside alerts, or --agents AUDIT.jsonl for the MCP gateway's agents)")
        }
        guard let reader = CaptureFiles.Reader(rawValue: args.options["reader"] ?? "auto") else {
            throw VigilError.usage("--reader is auto or libpcap")
        }
        var c = LearnConfiguration()
        var analystConfig = AnalystConfiguration()
        if let b = args.options["baseline"] {
            guard let days = Double(b), days >= 0, days < 3650 else { throw VigilError.usage("--baseline takes a number of days, not '\(b)'") }
            c.baseline = Duration(nanoseconds: Int64(days * 86_400e9))
        }
        if let l = args.options["local"] {
            var nets: [CIDR] = []
            for part in l.split(separator: ",") {
                guard let n = CIDR(part.trimmingCharacters(in: .whitespaces)) else { throw VigilError.usage("--local: '\(part)' is not an address block like 10.0.0.0/8") }
                nets.append(n)
            }
            c.localNetworks = nets
            c.trustRecordLocality = false
            analystConfig.localNetworks = nets
        }
        if let o = args.options["utc-offset"] {
            guard let h = Int(o), abs(h) <= 14 else { throw VigilError.usage("--utc-offset takes whole hours between -14 and 14") }
            c.utcOffsetHours = h
        }
        switch args.options["peer-calibration"] {
        case nil, "on": break
        case "off": c.peerGroupCalibration = false
        case let v?: throw VigilError.usage("--peer-calibration takes on or off, not '\(v)'")
        }
        if let b = args.options["budget"] {
            guard let v = Double(b), v > 0 else { throw VigilError.usage("--budget takes breaches per device-day, like 0.1") }
            c.budgetPerDeviceDay = v
        }
        let top = try args.int("top", default: 15)
        var wire = WireConfiguration()
        wire.maxFlows = try args.int("max-flows", default: wire.maxFlows)
        let quiet = args.flags.contains("quiet")
        // Outside alerts first: a bad alert file is reported before the long part starts.
        var alertReader = AlertReader()
        for path in (args.options["alerts"] ?? "").split(separator: ",").map(String.init) where !path.isEmpty {
            guard FileManager.default.fileExists(atPath: path) else { throw VigilError.usage("--alerts: no such file '\(path)'") }
            alertReader.read(path)
        }
        var alerts = alertReader.alerts
        // The analyst's follow-up questions need the observations stored; without --db they
        // go to a scratch store that is removed at the end.
        let persist = args.options["db"] != nil
        let storePath = args.options["db"] ?? FileManager.default.temporaryDirectory.appendingPathComponent("vigil-analyze-\(getpid()).sqlite").path
        defer { if !persist { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: storePath + suffix) } } }
        let store = try SQLiteStore(path: storePath)
        // The MCP gateway's audit logs: agents' tool calls for the agent learner, its findings as alerts.
        let (agentBreaches, agentLearner) = try readAgents(args, quiet: quiet, alerts: &alerts,
                                                           saved: persist && !args.flags.contains("fresh") ? store : nil)

        try store.beginBulkLoad()
        let learner = Learner(configuration: c)
        if persist, !args.flags.contains("fresh"), let saved = try store.loadState("learner") {
            try learner.restore(saved)
            if !quiet { err("continuing from the baseline saved in \(store.path) (observed up to \(learner.context.now.iso8601)); --fresh starts over") }
        }
        var breaches: [Breach] = []
        let progress = !quiet && isatty(2) == 1
        var count = 0
        var sinkError: Error?
        let started = DispatchTime.now().uptimeNanoseconds
        var inputs = ObservationInputs()
        let where_ = ReadProgress()
        inputs.read(args.positional, reader: reader, wire: wire, progress: where_) { o in
            learner.observe(o)
            count += 1
            if sinkError == nil { do { try store.consume(o) } catch { sinkError = error } }
            if count & 0x3FFF == 0 {
                breaches += learner.drainBreaches()
                if progress { showProgress(count, learner, where_.fraction) }
            }
        }
        learner.finish()
        breaches += learner.drainBreaches()
        if progress { showProgress(count, learner, where_.fraction.map { _ in 1 }); err("") }
        if let sinkError { throw sinkError }
        try store.endBulkLoad()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9

        breaches += agentBreaches
        breaches = rank(breaches)
        let analyst = Analyst(configuration: analystConfig, directory: directory(learner))
        var result = analyst.investigate(breaches: breaches, alerts: alerts, query: store)
        if let url = args.options["rephrase"] {
            var rephraser = try Rephraser(url: url, model: args.options["rephrase-model"] ?? "local")
            if let t = args.options["rephrase-timeout"] {
                guard let v = Double(t), v > 0, v <= 3600 else { throw VigilError.usage("--rephrase-timeout takes seconds per answer, like 60") }
                rephraser.timeout = v
                rephraser.budget = 5 * v
            }
            let (reworded, notes) = rephraser.rephrase(result.incidents)
            result.incidents = reworded
            if !quiet { notes.forEach { err("rephrase: \($0)") } }
        }
        let report = makeReport(learner, breaches, result, alerts: alerts.count)
        if let path = args.options["html"] {
            // Each incident device's bytes per hour against its learned normal, from the store.
            try store.saveDevices(learner.deviceSummaries())
            let activity = try store.activity(for: result.incidents, utcOffsetHours: c.utcOffsetHours)
            do { try IncidentHTML.document(result.incidents, title: "Vigil incidents", activity: activity).write(toFile: path, atomically: true, encoding: .utf8) } catch {
                throw VigilError.io("cannot write the HTML report: \(error.localizedDescription)", file: path)
            }
        }
        if let path = args.options["ocsf"] {
            do { try IncidentExport.ocsfLines(result.incidents).write(toFile: path, atomically: true, encoding: .utf8) } catch {
                throw VigilError.io("cannot write the OCSF findings: \(error.localizedDescription)", file: path)
            }
        }
        if let path = args.options["cef"] {
            let lines = result.incidents.map(IncidentExport.cef).joined(separator: "\n") + (result.incidents.isEmpty ? "" : "\n")
            do { try lines.write(toFile: path, atomically: true, encoding: .utf8) } catch {
                throw VigilError.io("cannot write the CEF lines: \(error.localizedDescription)", file: path)
            }
        }
        if let path = args.options["markdown"] {
            do { try IncidentMarkdown.document(result.incidents, title: "Vigil incidents", inputs: args.positional).write(toFile: path, atomically: true, encoding: .utf8) } catch {
                throw VigilError.io("cannot write the Markdown report: \(error.localizedDescription)", file: path)
            }
        }
        if let path = args.options["json"] {
            do { try AnalysisReport.encoder().encode(report).write(to: URL(fileURLWithPath: path)) } catch {
                throw VigilError.io("cannot write the report: \(error.localizedDescription)", file: path)
            }
        }
        if persist {
            let stats = "{\"observations\":\(count),\"breaches\":\(breaches.count)}"
            try store.recordRun(command: "analyze", inputs: args.positional, statsJSON: stats, first: inputs.first, last: inputs.last)
            try store.commit()
            let run = try store.lastRunID()
            try store.saveBreaches(breaches, run: run)
            try store.saveAlerts(alerts, run: run)
            try store.saveIncidents(result.incidents, run: run)
            try store.saveState("learner", try learner.snapshot(), at: learner.context.now)
            if let agentLearner, let t = agentLearner.learnedUpTo { try store.saveState("agents", try agentLearner.snapshot(), at: t) }
            if args.options["html"] == nil { try store.saveDevices(learner.deviceSummaries()) }
        }
        printIncidents(result.incidents)
        printTable(breaches, top: top)
        if !quiet {
            let ctx = learner.context
            if !args.positional.isEmpty {
                err(String(format: "analyzed %d observations (%d devices, %.1f device-days) in %.2f s; %d breaches reported, %d scoring 50+",
                           count, ctx.deviceCount, ctx.deviceDays, seconds, breaches.count, ctx.breachesAtOrAbove50))
            }
            err("analyst: \(breaches.count) breaches and \(alerts.count) outside alerts in, \(result.groups) groups, \(result.incidents.count) incident(s) out"
                + (result.signals > 0 && !result.incidents.isEmpty ? String(format: " (%.0fx fewer to read)", Double(result.signals) / Double(result.incidents.count)) : ""))
            if alertReader.unrecognised > 0 { err("note: \(alertReader.unrecognised) record(s) in the alert files matched no known alert format and were skipped") }
            if learner.foreign > 0 { err("note: \(learner.foreign) connections had neither end in the local networks (set --local)") }
            if ctx.isLearning, !args.positional.isEmpty { err("note: the input covered less than the learning period (--baseline); novelty models stayed quiet") }
        }
        for p in inputs.problems { err("vigil: \(p)") }
        for p in alertReader.problems { err("vigil: \(p)") }
        if alertReader.problemCount > alertReader.problems.count { err("vigil: … \(alertReader.problemCount - alertReader.problems.count) more problems in the alert files") }
        return inputs.problems.isEmpty && alertReader.problemCount == 0 ? 0 : 3
    }

    static func showProgress(_ n: Int, _ l: Learner, _ fraction: Double?) {
        var bar = ""
        if let f = fraction {
            let filled = Int((max(0, min(1, f)) * 30).rounded())
            bar = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled) + "] \(Int((f * 100).rounded()))%"
        }
        let line = "\r\u{1B}[2K\(bar)  \(n) observations · up to \(l.context.now.iso8601) · \(l.context.deviceCount) devices · \(l.context.breachesAtOrAbove50) breaches scoring 50+"
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Reads `--agents` audit logs (checked against `--agent-key` when given: a broken chain is an
    /// error naming its first bad line), learns each agent's tool calls, and returns the breaches
    /// and the learner. With `saved`, it continues from the agents' baseline kept there, and
    /// calls no later than what that baseline has learned are not learned again.
    static func readAgents(_ args: Arguments, quiet: Bool, alerts: inout [Alert], saved: SQLiteStore?) throws -> ([Breach], AgentLearner?) {
        let files = (args.options["agents"] ?? "").split(separator: ",").map(String.init).filter { !$0.isEmpty }
        guard !files.isEmpty else { return ([], nil) }
        let key = try args.options["agent-key"].map(KeyFile.readPublic)
        var records = AuditRecords()
        for f in files {
            guard let data = FileManager.default.contents(atPath: f) else { throw VigilError.usage("--agents: no such file '\(f)'") }
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            if let key {
                let v = AuditChain.verify(lines: lines, publicKey: key)
                if let bad = v.firstBad { throw VigilError.badInput("the audit chain breaks: \(bad.reason)", file: f, line: bad.line) }
            } else if !quiet {
                err("\(f): audit log read without checking its signatures (--agent-key PUB checks them)")
            }
            records.read(lines: lines, file: (f as NSString).lastPathComponent)
        }
        for p in records.problems.prefix(5) { err("vigil: --agents: line \(p.line): \(p.reason)") }
        if records.problems.count > 5 { err("vigil: … \(records.problems.count - 5) more lines that are not audit entries") }
        let learner = AgentLearner()
        if let saved, let state = try saved.loadState("agents") {
            try learner.restore(state)
            if !quiet, let t = learner.learnedUpTo { err("agents: continuing from the baseline saved in \(saved.path) (learned up to \(t.iso8601)); --fresh starts over") }
        }
        let since = learner.learnedUpTo
        var skipped = 0
        for call in records.calls.sorted(by: { $0.time < $1.time }) {
            if let since, call.time <= since { skipped += 1; continue }
            learner.observe(call)
        }
        alerts += records.alerts
        let breaches = learner.drainBreaches()
        if !quiet {
            err("agents: \(records.calls.count - skipped) tool calls from \(learner.agentCount) agent(s)\(skipped > 0 ? " (\(skipped) already learned, skipped)" : ""), \(breaches.count) breaches, \(records.alerts.count) gateway findings")
        }
        return (breaches, learner)
    }

    /// The latest version of each breach, highest score first (the analyst's and the table's order).
    static func rank(_ breaches: [Breach]) -> [Breach] {
        Breach.latestVersions(breaches).sorted { $0.score != $1.score ? $0.score > $1.score : $0.surprisal != $1.surprisal ? $0.surprisal > $1.surprisal : $0.time < $1.time }
    }

    /// The learner's devices as the analyst needs them: names, and which serve others.
    static func directory(_ l: Learner) -> [String: DeviceInfo] {
        var out: [String: DeviceInfo] = [:]
        l.context.devices.forEach { ip, p in
            out[ip.description] = DeviceInfo(name: p.name, isServer: p.servesOthers)
        }
        return out
    }

    static func makeReport(_ l: Learner, _ breaches: [Breach], _ result: AnalystResult, alerts: Int) -> AnalysisReport {
        let ctx = l.context
        let summary = AnalysisReport.Summary(
            observations: l.observations, devices: ctx.deviceCount, deviceDays: (ctx.deviceDays * 100).rounded() / 100,
            first: ctx.started?.iso8601, last: ctx.started == nil ? nil : ctx.now.iso8601,
            breachesAtOrAbove50: breaches.filter { $0.score >= 50 }.count, modelTests: ctx.tests,
            peerGroups: ctx.groups.describe(ctx.devices).map { AnalysisReport.PeerGroup(id: $0.id, size: $0.size, role: $0.role, examples: $0.examples) },
            alerts: alerts, signals: result.signals, groups: result.groups, incidents: result.incidents.count)
        return AnalysisReport(generator: "vigil 0.1.0", summary: summary, incidents: result.incidents, breaches: breaches)
    }

    static func printIncidents(_ incidents: [VigilCore.Incident]) {
        guard !incidents.isEmpty else { print("No incidents: nothing added up to a story worth a person's time.\n"); return }
        print("priority  incident      start                        devices  title")
        for i in incidents {
            print(String(format: "%8.1f  ", i.priority) + i.id.padding(toLength: 13, withPad: " ", startingAt: 0) + " "
                  + i.start.iso8601 + "  " + String(i.devices.count).padding(toLength: 8, withPad: " ", startingAt: 0) + " " + i.title)
        }
        print("")
    }

    static func printTable(_ breaches: [Breach], top: Int) {
        guard !breaches.isEmpty else { print("No breaches: nothing strayed from the learned pattern of life."); fflush(nil); return }
        print("score  model             device           time                  reason")
        for b in breaches.prefix(top) {
            let score = String(format: "%5.1f", b.score)
            let model = b.model.padding(toLength: 17, withPad: " ", startingAt: 0)
            let device = b.device.padding(toLength: 16, withPad: " ", startingAt: 0)
            print("\(score)  \(model) \(device) \(b.time.iso8601)  \(b.reason)")
        }
        if breaches.count > top { print("… \(breaches.count - top) more (see --json or the store)") }
        fflush(nil)   // the table before the summary on stderr, also when both go to one pipe
    }
}
