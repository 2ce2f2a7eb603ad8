import Foundation
import Testing
import VigilCore
import VigilStore

@Suite struct SQLiteStoreTests {
    func tempFile(_ name: String = #function) throws -> String {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("vigil-store-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let p = dir.appendingPathComponent(name.filter { $0.isLetter } + ".sqlite").path
        for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: p + s) }
        return p
    }

    func sample(_ n: Int) -> [Observation] {
        (0..<n).map { i in
            let id = ConnectionID(origHost: IPAddress(v4: 0x0A00_0000 | UInt32(i % 200)), origPort: UInt16(1024 + i % 5000),
                                  respHost: IPAddress("2001:db8::\(i % 7 + 1)")!, respPort: 443, proto: .tcp)
            if i % 3 == 0 {
                return .dns(DNSRecord(ts: Timestamp(seconds: Int64(i)), uid: "C\(i)", id: id, query: "q\(i).example", answers: ["1.2.3.4"], ttls: [60]))
            }
            return .conn(ConnRecord(ts: Timestamp(seconds: Int64(i)), uid: "C\(i)", id: id, service: ["ssl"], duration: .seconds(2),
                                    origBytes: UInt64(i), connState: "SF", history: "ShADadFf", extra: ["label": "Benign"]))
        }
    }

    @Test func observationsSurviveReopenInWALMode() throws {
        let path = try tempFile()
        let records = sample(12_000)
        do {
            let s = try SQLiteStore(path: path)
            for r in records { try s.consume(r) }
            try s.commit()
        }
        let s = try SQLiteStore(path: path)
        #expect(try s.count() == records.count)
        #expect(try s.count(kind: .dns) == 4000)
        #expect(try s.observations() == records)
        #expect(try s.integrityCheck() == "ok")
        let mode = try run("sqlite3", [path, "PRAGMA journal_mode;"])
        #expect(mode.trimmingCharacters(in: .whitespacesAndNewlines) == "wal")
    }

    /// `analyze` loads a new store without its observation indexes and builds them at the end;
    /// the evidence queries give the same answers as from a store loaded row by row, a store
    /// that already holds observations is loaded the ordinary way, and a load cut short gets
    /// its indexes back when the store is opened again.
    @Test func bulkLoadBuildsTheIndexesAtTheEndAndAnswersTheSame() throws {
        let records = sample(6_000)
        func indexes(_ path: String) throws -> [String] {
            try run("sqlite3", [path, "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='observations' ORDER BY name;"])
                .split(separator: "\n").map(String.init)
        }
        let plainPath = try tempFile("plain"), bulkPath = try tempFile("bulk"), cutPath = try tempFile("cut")
        let plain = try SQLiteStore(path: plainPath)
        for r in records { try plain.consume(r) }
        try plain.commit()
        let bulk = try SQLiteStore(path: bulkPath)
        #expect(try bulk.beginBulkLoad())
        for r in records { try bulk.consume(r) }
        #expect(try indexes(bulkPath).isEmpty, "no index is kept up during the load")
        try bulk.endBulkLoad()
        #expect(try indexes(bulkPath) == indexes(plainPath))
        #expect(try indexes(bulkPath).count == 5)
        #expect(try !bulk.beginBulkLoad(), "a store with observations is loaded the ordinary way")
        #expect(try indexes(bulkPath).count == 5)
        let (from, to) = (Timestamp(seconds: 0), Timestamp(seconds: 10_000))
        for e in ["2001:db8::3", "q300.example", "example"] {
            #expect(try bulk.devicesContacting(e, from: from, to: to, limit: 50) == plain.devicesContacting(e, from: from, to: to, limit: 50))
        }
        #expect(try bulk.traffic(device: "10.0.0.7", endpoint: "2001:db8::3", from: from, to: to) == plain.traffic(device: "10.0.0.7", endpoint: "2001:db8::3", from: from, to: to))
        #expect(try bulk.observations() == records)
        do {
            let cut = try SQLiteStore(path: cutPath)
            try cut.beginBulkLoad()
            for r in records.prefix(2_500) { try cut.consume(r) }
            try cut.commit()
        }
        #expect(try indexes(cutPath).isEmpty)
        let reopened = try SQLiteStore(path: cutPath)
        #expect(try indexes(cutPath).count == 5)
        #expect(try reopened.count() == 2_500)
        #expect(try reopened.integrityCheck() == "ok")
    }

    func breach(_ id: String, at seconds: Int64, score: Double = 60) -> Breach {
        Breach(id: id, model: "beacon", device: "10.0.0.1", time: Timestamp(seconds: seconds), first: Timestamp(seconds: seconds),
               last: Timestamp(seconds: seconds), score: score, surprisal: 9, reason: "r \(id)")
    }

    /// `vigil serve`'s checkpoint: state, breaches (a later version replaces an earlier one),
    /// devices and the position, together; retention deletes by observation time only.
    @Test func checkpointsAreOneTransactionAndRetentionDeletesOnlyWhatIsOld() throws {
        let path = try tempFile()
        let s = try SQLiteStore(path: path)
        for r in sample(3000) { try s.consume(r) }
        let device = DeviceSummary(address: "10.0.0.1", firstSeen: Timestamp(seconds: 1), lastSeen: Timestamp(seconds: 2900))
        let position = try s.checkpoint(state: Data("state-1".utf8), at: Timestamp(seconds: 2999), breaches: [breach("B1", at: 100, score: 40)],
                                        devices: [device], run: 0)
        #expect(position == 3000)
        #expect(try s.checkpointPosition() == 3000)
        _ = try s.checkpoint(state: Data("state-2".utf8), at: Timestamp(seconds: 2999), breaches: [breach("B1", at: 100, score: 80), breach("B2", at: 2500)],
                             devices: [device], run: 0)
        #expect(try s.breaches(BreachFilter()).map(\.id) == ["B2", "B1"])
        #expect(try s.breach(id: "B1")?.score == 80)
        #expect(try s.loadState("learner") == Data("state-2".utf8))
        #expect(try s.observations(after: 2990, limit: 100).count == 10)
        // Keep observations from t=2000 on, findings from t=1000 on.
        let removed = try s.prune(observationsBefore: Timestamp(seconds: 2000), findingsBefore: Timestamp(seconds: 1000))
        #expect(removed == 2000)
        #expect(try s.count() == 1000)
        #expect(try s.breaches(BreachFilter()).map(\.id) == ["B2"])
        #expect(try s.deviceSummary(address: "10.0.0.1") != nil)
        #expect(try s.integrityCheck() == "ok")
    }

    @Test func anotherProgramsDatabaseIsRefusedAndUntouched() throws {
        let path = try tempFile()
        _ = try run("sqlite3", [path, "CREATE TABLE invoices(id INTEGER, total REAL); INSERT INTO invoices VALUES (1, 9.5);"])
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        do {
            _ = try SQLiteStore(path: path)
            Issue.record("a foreign database was opened")
        } catch let e as VigilError {
            #expect(e.isForeignStore && e.file == path)
            #expect(e.description.contains("another program"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test func damagedFileIsAClearErrorNotAReset() throws {
        let path = try tempFile()
        do {
            let s = try SQLiteStore(path: path)
            for r in sample(3000) { try s.consume(r) }
            try s.commit()
        }
        // Checkpoint, then overwrite the header page with garbage.
        _ = try run("sqlite3", [path, "PRAGMA wal_checkpoint(TRUNCATE);"])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        for i in 0..<100 { bytes[i] = UInt8(truncatingIfNeeded: i &* 37) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try SQLiteStore(path: path)
            Issue.record("a damaged store was opened")
        } catch let e as VigilError {
            #expect(e.isCorruptStore, "\(e)")
            #expect(e.description.contains("untouched"))
        }
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == bytes, "nothing was rewritten")
    }

    @Test func textFileIsNotADatabase() throws {
        let path = try tempFile()
        try Data(String(repeating: "not sqlite\n", count: 500).utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: VigilError.self) { _ = try SQLiteStore(path: path) }
    }
}

@discardableResult
func run(_ program: String, _ args: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [program] + args
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}
