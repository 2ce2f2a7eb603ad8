import Foundation
import VigilCapture
import VigilCore
import VigilLearn
import VigilStore
import VigilWire

/// `vigil analyze`: observations from captures or Zeek logs through the learner; a table of
/// the top breaches, a JSON report, and everything in the store.
enum AnalyzeCommand {
    static func run(_ a: ArraySlice<String>) throws -> Int32 {
        let args = try Arguments(a, flags: ["quiet", "fresh"])
        try args.allowOnly(["db", "json", "baseline", "local", "utc-offset", "top", "reader", "max-flows", "budget"])
        guard !args.positional.isEmpty else { throw VigilError.usage("analyze needs capture files or Zeek log directories") }
        guard let reader = CaptureFiles.Reader(rawValue: args.options["reader"] ?? "auto") else {
            throw VigilError.usage("--reader is auto or libpcap")
        }
        var c = LearnConfiguration()
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
        }
        if let o = args.options["utc-offset"] {
            guard let h = Int(o), abs(h) <= 14 else { throw VigilError.usage("--utc-offset takes whole hours between -14 and 14") }
            c.utcOffsetHours = h
        }
        if let b = args.options["budget"] {
            guard let v = Double(b), v > 0 else { throw VigilError.usage("--budget takes breaches per device-day, like 0.1") }
            c.budgetPerDeviceDay = v
        }
        let top = try args.int("top", default: 15)
        var wire = WireConfiguration()
        wire.maxFlows = try args.int("max-flows", default: wire.maxFlows)
        let quiet = args.flags.contains("quiet")
        let store = try args.options["db"].map { try SQLiteStore(path: $0) }

        let learner = Learner(configuration: c)
        if let store, !args.flags.contains("fresh"), let saved = try store.loadState("learner") {
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
            if let store, sinkError == nil { do { try store.consume(o) } catch { sinkError = error } }
            if count & 0x3FFF == 0 {
                breaches += learner.drainBreaches()
                if progress { showProgress(count, learner, where_.fraction) }
            }
        }
        learner.finish()
        breaches += learner.drainBreaches()
        if progress { showProgress(count, learner, where_.fraction.map { _ in 1 }); err("") }
        if let sinkError { throw sinkError }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9

        // A breach reported again with more evidence keeps its id: the latest version stands.
        var latest: [String: Int] = [:]
        var merged: [Breach] = []
        for b in breaches {
            if let i = latest[b.id] { merged[i] = b } else { latest[b.id] = merged.count; merged.append(b) }
        }
        breaches = merged
        breaches.sort { $0.score != $1.score ? $0.score > $1.score : $0.surprisal != $1.surprisal ? $0.surprisal > $1.surprisal : $0.time < $1.time }
        let report = makeReport(learner, breaches)
        if let path = args.options["json"] {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            do { try e.encode(report).write(to: URL(fileURLWithPath: path)) } catch {
                throw VigilError.io("cannot write the report: \(error.localizedDescription)", file: path)
            }
        }
        if let store {
            let stats = "{\"observations\":\(count),\"breaches\":\(breaches.count)}"
            try store.recordRun(command: "analyze", inputs: args.positional, statsJSON: stats, first: inputs.first, last: inputs.last)
            try store.commit()
            try store.saveBreaches(breaches, run: try store.lastRunID())
            try store.saveState("learner", try learner.snapshot(), at: learner.context.now)
        }
        printTable(breaches, top: top, report: report)
        if !quiet {
            let ctx = learner.context
            err(String(format: "analyzed %d observations (%d devices, %.1f device-days) in %.2f s; %d breaches reported, %d scoring 50+",
                       count, ctx.deviceCount, ctx.deviceDays, seconds, breaches.count, ctx.breachesAtOrAbove50))
            if learner.foreign > 0 { err("note: \(learner.foreign) connections had neither end in the local networks (set --local)") }
            if ctx.isLearning { err("note: the input covered less than the learning period (--baseline); novelty models stayed quiet") }
        }
        for p in inputs.problems { err("vigil: \(p)") }
        return inputs.problems.isEmpty ? 0 : 3
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

    static func makeReport(_ l: Learner, _ breaches: [Breach]) -> AnalysisReport {
        let titles = Dictionary(l.models.map { ($0.name, $0.summary) }, uniquingKeysWith: { a, _ in a })
        var incidents: [AnalysisReport.Incident] = []
        for b in breaches where b.score >= 50 {
            let what = titles[b.model].map { $0.prefix(1).uppercased() + $0.dropFirst() } ?? b.model
            let device = b.deviceName.map { "\(b.device) (\($0))" } ?? b.device
            incidents.append(AnalysisReport.Incident(
                id: "I\(incidents.count + 1)", title: "\(what): \(device)", score: (b.score * 10).rounded() / 10,
                start: b.first.iso8601, end: b.last.iso8601, devices: [b.device], endpoints: b.endpoints,
                techniques: b.techniques, summary: b.reason, breaches: [b.id]))
        }
        let ctx = l.context
        let summary = AnalysisReport.Summary(
            observations: l.observations, devices: ctx.deviceCount, deviceDays: (ctx.deviceDays * 100).rounded() / 100,
            first: ctx.started?.iso8601, last: ctx.started == nil ? nil : ctx.now.iso8601,
            breachesAtOrAbove50: breaches.filter { $0.score >= 50 }.count, modelTests: ctx.tests,
            peerGroups: ctx.groups.describe(ctx.devices).map { AnalysisReport.PeerGroup(id: $0.id, size: $0.size, role: $0.role, examples: $0.examples) })
        return AnalysisReport(generator: "vigil 0.1.0", summary: summary, incidents: incidents, breaches: breaches.map(AnalysisReport.BreachEntry.init))
    }

    static func printTable(_ breaches: [Breach], top: Int, report: AnalysisReport) {
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
