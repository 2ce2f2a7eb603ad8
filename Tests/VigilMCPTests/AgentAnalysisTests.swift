import Foundation
import Testing
import VigilCore
import VigilMCP
import VigilSim

/// The gateway's audit log analysed like a capture: each agent's tool calls learned, its
/// deviations and the gateway's own findings chained into an incident.
@Suite struct AgentAnalysisTests {
    /// A week of an agent's calls written as the gateway writes them (signed, hash-chained), by
    /// `vigil mcp simulate`; optionally one line edited afterwards.
    func writeLog(_ dir: URL, tamper: Bool = false) throws -> (log: String, pub: String, start: Timestamp, tampered: Int) {
        let keys = dir.appendingPathComponent("gw").path
        #expect(try vigil("mcp", "keygen", "--out", keys).status == 0)
        let log = dir.appendingPathComponent("audit.jsonl").path
        let r = try vigil("mcp", "simulate", "--out", log, "--key", keys + ".key")
        try #require(r.status == 0, "\(r.err)")
        var tampered = 0
        if tamper {
            var lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
            if let i = lines.indices.first(where: { $0 >= 100 && lines[$0].contains("git_status") }) {
                lines[i] = lines[i].replacingOccurrences(of: "git_status", with: "git_stash")
                tampered = i + 1
            }
            try (lines.joined(separator: "\n") + "\n").write(toFile: log, atomically: true, encoding: .utf8)
        }
        return (log, keys + ".pub", AgentWorkday().intrusionStart, tampered)
    }

    @Test func anAgentsNightSessionBecomesOneIncident() throws {
        try requireTools()
        let dir = try tempDir()
        let (log, pub, start, _) = try writeLog(dir)
        let report = dir.appendingPathComponent("report.json").path
        let r = try vigil("analyze", "--agents", log, "--agent-key", pub, "--json", report, "--quiet")
        #expect(r.status == 0, "\(r.err)")
        let doc = try JSONValue.parse(try Data(contentsOf: URL(fileURLWithPath: report)))
        let incidents = doc["incidents"]?.array ?? []
        #expect(incidents.count == 1, "\(r.out)")
        let i = try #require(incidents.first)
        #expect(i["devices"] == ["agent:build-bot"])
        #expect((i["score"]?.number ?? 0) >= 50)
        #expect(i["techniques"]?.array?.contains("T1567") == true)
        let breaches = doc["breaches"]?.array ?? []
        let ids = Set(i["breaches"]?.array?.compactMap { $0.string } ?? [])
        let models = Set(breaches.filter { ids.contains($0["id"]?.string ?? "") }.compactMap { $0["model"]?.string })
        #expect(models.isSuperset(of: ["agent-new-tool", "agent-argument-shape"]))
        let begins = try #require(i["start"]?.string.flatMap { Timestamp(iso8601: $0) })
        #expect(begins >= start - .seconds(60) && begins <= start + .seconds(3600))
    }

    /// With --db the agents' baseline is saved: a later run on only the newer part of the log
    /// still knows the agent (the same part alone, with no baseline, raises nothing), and the
    /// whole log read again is not learned twice.
    @Test func anAgentsBaselineCarriesOverBetweenRuns() throws {
        try requireTools()
        let dir = try tempDir()
        let (log, _, start, _) = try writeLog(dir)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        let cut = start - .seconds(86_400)
        let split = try #require(lines.firstIndex { (try? JSONValue.parse($0))?["time"]?.number.map { $0 >= cut.seconds } ?? false })
        let before = dir.appendingPathComponent("before.jsonl").path, after = dir.appendingPathComponent("after.jsonl").path
        try (lines[..<split].joined(separator: "\n") + "\n").write(toFile: before, atomically: true, encoding: .utf8)
        try (lines[split...].joined(separator: "\n") + "\n").write(toFile: after, atomically: true, encoding: .utf8)
        let db = dir.appendingPathComponent("vigil.sqlite").path

        /// The models of the agent learner's breaches of 50+ in a run's report.
        func learned(_ args: String...) throws -> Set<String> {
            let report = dir.appendingPathComponent("r.json").path
            let r = try run(vigilBinary, ["analyze", "--json", report] + args)
            try #require(r.status == 0 || r.status == 3, "\(r.err)")
            let breaches = try JSONValue.parse(try Data(contentsOf: URL(fileURLWithPath: report)))["breaches"]?.array ?? []
            return Set(breaches.filter { ($0["score"]?.number ?? 0) >= 50 }.compactMap { $0["model"]?.string }.filter { $0.hasPrefix("agent-") })
        }
        #expect(try learned("--agents", before, "--db", db).isEmpty)
        let carried = try learned("--agents", after, "--db", db)
        #expect(carried.isSuperset(of: ["agent-new-tool", "agent-argument-shape"]), "\(carried)")
        #expect(try learned("--agents", after).isEmpty, "with no baseline the agent is still being learned")
        let again = try run(vigilBinary, ["analyze", "--agents", log, "--db", db])
        #expect(again.err.contains("agents: 0 tool calls from 1 agent(s) ("), "\(again.err)")
        #expect(again.err.contains(" already learned, skipped), 0 breaches"), "\(again.err)")
    }

    @Test func aTamperedAuditLogIsRefusedByLine() throws {
        try requireTools()
        let dir = try tempDir()
        let (log, pub, _, line) = try writeLog(dir, tamper: true)
        #expect(line > 100)
        let r = try vigil("analyze", "--agents", log, "--agent-key", pub, "--quiet")
        #expect(r.status == 1 && r.err.contains("line \(line)"), "\(r.status) \(r.err)")
    }
}
