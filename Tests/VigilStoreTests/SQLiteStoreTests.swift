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
