import Foundation
import VigilCapture
import VigilCore
import VigilWire

/// Follows an outside tool's alert file: JSON lines or a Zeek notice.log as they grow (Suricata's
/// eve.json, Zeek's notice.log, an EDR's JSON-lines export): each poll gives the alerts in the
/// lines appended since the last; a rotated file is read from its start. A file that is one JSON
/// array (Chainsaw, Zircolite, API exports) is written whole, so it is read whole again each time
/// it changes. Alert ids come from the records, so an alert read twice is stored once.
final class AlertFollower {
    private var tail: LineTail
    private var reader = AlertReader()
    private var tsv: ZeekTSVParser?
    private(set) var reported = 0
    /// Nil until the file has content; then whether it is one JSON array.
    private var isArray: Bool?
    /// The array file as last read (inode, size, modification time), and what reading it found.
    private var arraySeen: (UInt64, Int64, Int, Int)?
    private var arrayProblems: [VigilError] = []
    private var arrayRecords = 0

    init(path: String) { tail = LineTail(path: path) }

    var records: Int { isArray == true ? arrayRecords : reader.records }

    func poll() -> [Alert] {
        let path = tail.path
        if isArray == nil { isArray = Self.startsAsArray(path) }
        if isArray == true { return pollWhole() }
        tail.poll(restarted: { tsv = nil }) { line, number in reader.readLine(line, file: path, line: number, tsv: &tsv) }
        return reader.drainAlerts()
    }

    /// Problems not yet shown (each shown once).
    func newProblems() -> [VigilError] {
        let all = isArray == true ? arrayProblems : reader.problems
        defer { reported = all.count }
        return Array(all.dropFirst(reported))
    }

    private func pollWhole() -> [Alert] {
        var st = stat()
        guard stat(tail.path, &st) == 0 else { return [] }
        let seen = (UInt64(st.st_ino), Int64(st.st_size), st.st_mtim.tv_sec, st.st_mtim.tv_nsec)
        if let a = arraySeen, a == seen { return [] }
        arraySeen = seen
        var whole = AlertReader()
        whole.read(tail.path)
        arrayRecords = whole.records
        // Problems are those of the latest reading; shown once each as the list grows.
        if whole.problems.count < reported { reported = 0 }
        arrayProblems = whole.problems
        return whole.drainAlerts()
    }

    /// Whether the file's first non-blank byte is "[" (nil while it is empty or missing).
    static func startsAsArray(_ path: String) -> Bool? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        guard let head = try? h.read(upToCount: 4096) else { return nil }
        // A gzipped file is read as lines (its reader sees through the compression).
        if head.starts(with: [0x1F, 0x8B]) { return false }
        guard let first = head.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return nil }
        return first == UInt8(ascii: "[")
    }
}
