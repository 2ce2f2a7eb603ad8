import Foundation
import Testing
import VigilCore

/// `vigil` as a user runs it: exit status, messages, files.
@Suite struct CommandLineTests {
    var vigil: String {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for dir in [here, here.deletingLastPathComponent()] {
            let p = dir.appendingPathComponent("vigil").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return packageRoot.appendingPathComponent(".build/debug/vigil").path
    }

    @Test func logsFromACaptureWithASummary() throws {
        let dir = try tempDir()
        let r0 = try run(vigil, ["synth", "--sessions", "300", "--out", dir.appendingPathComponent("s.pcap").path])
        #expect(r0.status == 0, "\(r0.err)")
        let out = dir.appendingPathComponent("logs")
        let db = dir.appendingPathComponent("v.sqlite").path
        let r = try run(vigil, ["logs", dir.appendingPathComponent("s.pcap").path, "--out", out.path, "--db", db])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("packets: ") && r.err.contains("skipped: 0"))
        for log in ["conn", "dns", "http", "ssl"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("\(log).log").path), "\(log).log")
        }
        let conn = try String(contentsOf: out.appendingPathComponent("conn.log"), encoding: .utf8)
        #expect(conn.hasPrefix("#separator \\x09\n") && conn.contains("#close\t"))
        let rows = try run("sqlite3", [db, "SELECT count(*) FROM observations WHERE kind='conn'"]).out
        #expect(Int(rows.trimmingCharacters(in: .whitespacesAndNewlines)) == conn.split(separator: "\n").filter { !$0.hasPrefix("#") }.count)
    }

    @Test func jsonLogsAreOneObjectPerLine() throws {
        let dir = try tempDir()
        let cap = dir.appendingPathComponent("s.pcap").path
        _ = try run(vigil, ["synth", "--sessions", "100", "--out", cap])
        let r = try run(vigil, ["logs", cap, "--out", dir.appendingPathComponent("j").path, "--json"])
        #expect(r.status == 0)
        let text = try String(contentsOf: dir.appendingPathComponent("j/dns.log"), encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(lines.count > 10)
        for l in lines {
            let o = try JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any]
            #expect(o?["query"] is String && o?["ts"] is NSNumber)
        }
    }

    @Test func damagedCaptureExitsThreeAndNamesFileAndOffset() throws {
        let dir = try tempDir()
        let cap = dir.appendingPathComponent("s.pcap").path
        _ = try run(vigil, ["synth", "--sessions", "200", "--out", cap])
        let data = try Data(contentsOf: URL(fileURLWithPath: cap))
        let cut = dir.appendingPathComponent("cut.pcap").path
        try data.prefix(data.count / 3).write(to: URL(fileURLWithPath: cut))
        let r = try run(vigil, ["logs", cut, cap, "--out", dir.appendingPathComponent("l").path])
        #expect(r.status == 3)
        #expect(r.err.contains(cut) && r.err.contains("offset "), "\(r.err)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("l/conn.log").path))
    }

    @Test func usageErrorsExitOne() throws {
        #expect(try run(vigil, []).status == 1)
        let r = try run(vigil, ["logs", "x.pcap"])
        #expect(r.status == 1 && r.err.contains("--out"))
        let r2 = try run(vigil, ["logs", "--bogus", "1", "--out", "/tmp/x"])
        #expect(r2.status == 1 && r2.err.contains("unknown option --bogus"))
        let r3 = try run(vigil, ["analyze", "x.pcap", "--peer-calibration", "maybe"])
        #expect(r3.status == 1 && r3.err.contains("--peer-calibration takes on or off"), "\(r3.err)")
    }

    @Test func foreignDatabaseIsRefused() throws {
        let dir = try tempDir()
        let db = dir.appendingPathComponent("other.sqlite").path
        _ = try run("sqlite3", [db, "CREATE TABLE t(x); INSERT INTO t VALUES(1);"])
        let cap = dir.appendingPathComponent("s.pcap").path
        _ = try run(vigil, ["synth", "--sessions", "20", "--out", cap])
        let r = try run(vigil, ["logs", cap, "--out", dir.appendingPathComponent("l").path, "--db", db])
        #expect(r.status == 1 && r.err.contains("another program"), "\(r.err)")
        #expect(try run("sqlite3", [db, "SELECT x FROM t"]).out == "1\n")
    }

    @Test(.enabled(if: haveDatasets, skipDatasets))
    func zeekDirectoryInLogsOut() throws {
        let dir = try tempDir()
        let src = datasets.appendingPathComponent("slips/test9-mixed-zeek-dir").path
        let r = try run(vigil, ["logs", src, "--out", dir.path])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("zeek rows read:"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("http.log").path))
    }
}

/// `vigil simulate` and `vigil analyze` as a user runs them.
@Suite struct AnalyzeCommandTests {
    var vigil: String { CommandLineTests().vigil }

    @Test func simulateThenAnalyzeReportsTheAttackInTableJSONAndStore() throws {
        let dir = try tempDir()
        let cap = dir.appendingPathComponent("office.pcap").path
        let s = try run(vigil, ["simulate", "--devices", "12", "--days", "3", "--attacks", "scan,dga", "--out", cap])
        #expect(s.status == 0, "\(s.err)")
        let labels = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("office.labels.json"))) as? [[String: Any]]
        #expect(labels?.count == 2)
        let json = dir.appendingPathComponent("report.json").path
        let db = dir.appendingPathComponent("v.sqlite").path
        let r = try run(vigil, ["analyze", cap, "--json", json, "--db", db])
        #expect(r.status == 0, "\(r.err)")
        // The incidents first, then the breaches behind them.
        #expect(r.out.hasPrefix("priority  incident"), "\(r.out)")
        #expect(r.out.contains("score  model"), "\(r.out)")
        #expect(r.out.contains("Network scanning on") && r.out.contains("Lookups of generated domains on"), "\(r.out)")
        #expect(r.err.contains("incident(s) out"), "\(r.err)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
        let incidents = report?["incidents"] as? [[String: Any]] ?? []
        let breaches = report?["breaches"] as? [[String: Any]] ?? []
        #expect(!incidents.isEmpty && !breaches.isEmpty)
        for key in ["id", "title", "score", "start", "end", "devices", "endpoints", "techniques", "summary", "breaches"] {
            #expect(incidents.first?[key] != nil, "incident lacks \(key)")
        }
        for key in ["id", "model", "device", "time", "score", "reason"] { #expect(breaches.first?[key] != nil, "breach lacks \(key)") }
        let stored = try run("sqlite3", [db, "SELECT count(*) FROM breaches; SELECT count(*) FROM learner_state;"]).out.split(separator: "\n")
        #expect(Int(stored.first ?? "") == breaches.count && stored.last == "1")
        let storedIncidents = try run("sqlite3", [db, "SELECT count(*) FROM incidents"]).out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Int(storedIncidents) == incidents.count)
        // A second run continues from the saved baseline.
        let again = try run(vigil, ["analyze", cap, "--db", db, "--top", "0"])
        #expect(again.err.contains("continuing from the baseline saved"), "\(again.err)")
    }

    /// nmap -A against one web server: its scripts ask for a dozen paths the server does not
    /// have (/.git/HEAD, /sdk, /HNAP1, OPTIONS, PROPFIND...) within seconds. One port of one host
    /// is no fan-out for the scan model; the run of refused requests is web probing.
    @Test(.enabled(if: haveDatasets, skipDatasets))
    func nmapScriptsProbingAWebServerAreFoundAsWebProbing() throws {
        let dir = try tempDir()
        let json = dir.appendingPathComponent("nmap.json").path
        let cap = datasets.appendingPathComponent("scans/esnet/nmap/nmap_80_all.pcap").path
        let r = try run(vigil, ["analyze", cap, "--baseline", "0", "--json", json, "--top", "0"])
        #expect(r.status == 0 || r.status == 3, "\(r.err)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
        let probes = (report?["breaches"] as? [[String: Any]] ?? []).filter { $0["model"] as? String == "web-probe" }
        #expect(probes.count == 1, "\(report?["breaches"] ?? [])")
        let reason = probes.first?["reason"] as? String ?? ""
        #expect((probes.first?["score"] as? Double ?? 0) >= 50, "\(probes)")
        #expect(reason.contains("10.87.1.10") && reason.contains("130.211.223.103") && reason.contains("/.git/HEAD"), "\(reason)")
        #expect(reason.contains("none of its requests succeeded"), "\(reason)")
    }

    @Test func analyzeRefusesABadBaselineAndUnknownAttacks() throws {
        let r = try run(vigil, ["analyze", "x.pcap", "--baseline", "soon"])
        #expect(r.status == 1 && r.err.contains("--baseline"))
        let s = try run(vigil, ["simulate", "--out", "/tmp/never.pcap", "--attacks", "ransom"])
        #expect(s.status == 1 && s.err.contains("unknown attack 'ransom'"))
    }
}
