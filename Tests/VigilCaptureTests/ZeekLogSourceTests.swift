import Foundation
import Testing
import VigilCapture
import VigilCore
import VigilWire

/// Zeek log directories in, the same records out, in both layouts.
@Suite struct ZeekLogSourceTests {
    func read(_ path: String) throws -> (records: [Observation], source: ZeekLogSource) {
        let s = ZeekLogSource(root: path)
        var out: [Observation] = []
        try s.forEach { out.append($0) }
        return (out, s)
    }

    func write(_ records: [Observation], to dir: URL, style: ZeekLogFormatter.Style) throws {
        let w = try ZeekLogWriter(directory: dir.path, style: style)
        for r in records { try w.consume(r) }
        try w.finish()
    }

    func roundTrips(_ path: String, name: String) throws {
        let (records, source) = try read(path)
        #expect(!records.isEmpty, "\(path) gave no records")
        #expect(source.errorCount == 0, "\(path): \(source.errors.prefix(3))")
        for style in [ZeekLogFormatter.Style.tsv, .json] {
            let out = try tempDir(name + "\(style)")
            try write(records, to: out, style: style)
            let (back, again) = try read(out.path)
            #expect(again.errorCount == 0, "\(again.errors.prefix(3))")
            #expect(back.count == records.count, "\(path) \(style)")
            // Same records, compared as multisets (equal-ts order may differ between kinds).
            let a = Dictionary(grouping: records, by: { $0 }).mapValues(\.count)
            let b = Dictionary(grouping: back, by: { $0 }).mapValues(\.count)
            if a != b {
                let missing = records.first { b[$0] == nil }
                Issue.record("\(path) \(style): first record that did not survive: \(String(describing: missing).prefix(600))")
            }
        }
    }

    @Test(.enabled(if: haveDatasets, skipDatasets))
    func ritaRotatedGzippedNestedByDayRoundTrips() throws {
        let (records, _) = try read(datasets.appendingPathComponent("rita_beacon_3day").path)
        let conns = records.filter { $0.kind == .conn }.count
        #expect(conns == 105_918, "RITA's README counts 105,918 connections")
        #expect(zip(records, records.dropFirst()).filter { $0.0.ts > $0.1.ts }.count < records.count / 100,
                "records come out in time order within each rotation hour")
        try roundTrips(datasets.appendingPathComponent("rita_beacon_3day/2024-04-19").path, name: "rita")
    }

    @Test(.enabled(if: haveDatasets, skipDatasets))
    func labelledAndJSONDirectoriesRoundTrip() throws {
        for d in ["ctu_labeled_zeek/008-zeek-mixed/data", "ctu_labeled_zeek/002-zeek-scenario-port-scanning",
                  "ctu_labeled_zeek/004-zeek-scenario-ssh", "slips/test9-mixed-zeek-dir", "slips/test13-malicious-dhcpscan-zeek-dir",
                  "slips/test18-malicious-ctu-sme-11-win/zeek-labeled", "slips/port-scans/horizontal"] {
            try roundTrips(datasets.appendingPathComponent(d).path, name: d)
        }
    }

    @Test(.enabled(if: haveDatasets, skipDatasets))
    func labelsAreKeptAsFields() throws {
        let (records, _) = try read(datasets.appendingPathComponent("ctu_labeled_zeek/008-zeek-mixed/data").path)
        let labelled = records.compactMap { o -> String? in if case .conn(let c) = o { c.extra["label"] } else { nil } }
        #expect(labelled.count > 1000 && Set(labelled).isSuperset(of: ["Malicious", "Benign"]))
    }

    @Test(.enabled(if: haveDatasets, skipDatasets))
    func everySharedZeekDirectoryReads() throws {
        var dirs: Set<String> = []
        let e = FileManager.default.enumerator(atPath: datasets.path)
        while let rel = e?.nextObject() as? String {
            if ZeekLogSourceKind.isLogName((rel as NSString).lastPathComponent) { dirs.insert((rel as NSString).deletingLastPathComponent) }
        }
        #expect(dirs.count >= 20)
        for d in dirs.sorted() {
            let (records, s) = try read(datasets.appendingPathComponent(d).path)
            #expect(!records.isEmpty, "\(d)")
            #expect(s.errorCount == 0, "\(d): \(s.errors.prefix(2))")
        }
    }

    @Test func damagedRowsAreReportedByLineAndTheRestIsRead() throws {
        let dir = try tempDir()
        let text = """
        #separator \\x09
        #set_separator\t,
        #empty_field\t(empty)
        #unset_field\t-
        #path\tconn
        #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\torig_bytes
        #types\ttime\tstring\taddr\tport\taddr\tport\tenum\tinterval\tcount
        1.0\tC1\t10.0.0.1\t5\t10.0.0.2\t80\ttcp\t0.5\t10
        2.0\tC2\t10.0.0.1\t5\t10.0.0.2\t80\ttcp\tnot-a-number\t10
        3.0\tC3\t10.0.0.1\t5
        4.0\tC4\t10.0.0.1\t5\t10.0.0.2\t80\ttcp\t-\t-

        """
        try text.write(to: dir.appendingPathComponent("conn.log"), atomically: true, encoding: .utf8)
        let (records, s) = try read(dir.path)
        #expect(records.count == 2)
        #expect(s.errorCount == 2)
        #expect(s.errors.map(\.line) == [9, 10])
        #expect(s.errors.first?.field == "duration")
        #expect(s.errors.allSatisfy { $0.file?.hasSuffix("conn.log") == true })
    }

    @Test func kindsOfOnePeriodMergeInTimeOrderWithinTheWindow() throws {
        let dir = try tempDir()
        let header = "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\n"
        // Rows written when connections end: start times jumbled within blocks of 50.
        var conn = header, dns = header.replacingOccurrences(of: "\tproto", with: "\tproto\tquery").replacingOccurrences(of: "\tenum", with: "\tenum\tstring")
        for block in 0..<40 {
            for k in (0..<50).reversed() { conn += "\(block * 100 + k * 2).0\tC\(block)x\(k)\t10.0.0.1\t1\t10.0.0.2\t80\ttcp\n" }
            for k in 0..<50 { dns += "\(block * 100 + k * 2 + 1).0\tD\(block)x\(k)\t10.0.0.1\t1\t10.0.0.53\t53\tudp\tq.example\n" }
        }
        try conn.write(to: dir.appendingPathComponent("conn.log.labeled"), atomically: true, encoding: .utf8)
        try dns.write(to: dir.appendingPathComponent("dns.log"), atomically: true, encoding: .utf8)
        let s = ZeekLogSource(root: dir.path)
        s.reorderWindow = 64
        var times: [Timestamp] = []
        try s.forEach { times.append($0.ts) }
        #expect(times.count == 4000)
        #expect(times == times.sorted(), "conn and dns of one directory interleave in ts order")
    }

    @Test func brokenGzipKeepsEarlierRows() throws {
        let dir = try tempDir()
        var lines = "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\n"
        for i in 0..<5000 { lines += "\(i).5\tC\(i)\t10.0.0.1\t\(i % 60000)\t10.0.0.2\t80\ttcp\n" }
        let plain = dir.appendingPathComponent("conn.log")
        try lines.write(to: plain, atomically: true, encoding: .utf8)
        try run("gzip", ["-f", plain.path])
        let gz = dir.appendingPathComponent("conn.log.gz")
        let data = try Data(contentsOf: gz)
        try data.prefix(data.count * 2 / 3).write(to: gz)
        let (records, s) = try read(dir.path)
        #expect(records.count > 1000 && records.count < 5000)
        #expect(s.errorCount == 1)
    }
}
