import Foundation
import VigilCapture
import VigilCore
import VigilWire

/// Follows an outside tool's alert file as it grows (Suricata's eve.json, Zeek's notice.log,
/// an EDR's JSON-lines export): each poll gives the alerts in the lines appended since the
/// last. A rotated file is read from its start; alert ids come from the records, so reading
/// a line twice stores it once.
final class AlertFollower {
    private var tail: LineTail
    private var reader = AlertReader()
    private var tsv: ZeekTSVParser?
    private(set) var reported = 0

    init(path: String) { tail = LineTail(path: path) }

    var records: Int { reader.records }

    func poll() -> [Alert] {
        let path = tail.path
        tail.poll(restarted: { tsv = nil }) { line, number in reader.readLine(line, file: path, line: number, tsv: &tsv) }
        return reader.drainAlerts()
    }

    /// Problems not yet shown (each shown once).
    func newProblems() -> [VigilError] {
        defer { reported = reader.problems.count }
        return Array(reader.problems.dropFirst(reported))
    }
}
