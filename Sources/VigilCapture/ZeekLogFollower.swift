import Foundation
import VigilCore
import VigilWire

/// Follows a Zeek log directory as Zeek writes it (`/opt/zeek/logs/current`): each `poll()`
/// reads the complete lines appended to every log file since the last poll. A file that
/// shrinks or is replaced (Zeek rotates by renaming and starting a new file) is read again
/// from its start. Rows that cannot be read are counted and reported with file and line.
public final class ZeekLogFollower {
    struct Tail {
        var lines: LineTail
        var tsv: ZeekTSVParser
        var json: Bool?
    }

    public let root: String
    private var tails: [String: Tail] = [:]
    public private(set) var rows = 0
    public private(set) var errors: [VigilError] = []
    public private(set) var errorCount = 0
    /// Bytes read from one file in one poll at most (a large backlog is read over several polls).
    public var maxBytesPerPoll = 8 << 20

    public init(root: String) { self.root = root }

    /// Reads what was appended since the last call and hands each record to `emit`.
    public func poll(_ emit: (Observation) -> Void) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else {
            note(.io("cannot list the Zeek log directory", file: root))
            return
        }
        for name in names.sorted() where name.hasSuffix(".log") {
            guard let kind = ZeekLogSource.kind(of: name) else { continue }
            read((root as NSString).appendingPathComponent(name), kind: kind, emit)
        }
    }

    private func note(_ e: VigilError) {
        errorCount += 1
        if errors.count < 100 { errors.append(e) }
    }

    private func read(_ path: String, kind: ObservationKind, _ emit: (Observation) -> Void) {
        var t = tails[path] ?? Tail(lines: LineTail(path: path), tsv: ZeekTSVParser(file: path))
        defer { tails[path] = t }
        var lines = t.lines
        lines.poll(maxBytes: maxBytesPerPoll, restarted: { t.json = nil; t.tsv = ZeekTSVParser(file: path) }) { line, number in
            if t.json == nil { t.json = line[0] == UInt8(ascii: "{") }
            do {
                let row: ZeekRow
                if t.json == true { row = try ZeekLogSource.jsonRow(line, file: path, line: number) }
                else {
                    guard case .row(let r) = try t.tsv.parse(line, number: number) else { return }
                    row = r
                }
                emit(try ZeekLogSource.observation(kind, row))
                rows += 1
            } catch let e as VigilError { note(e) } catch { note(.badInput("\(error)", file: path, line: number)) }
        }
        t.lines = lines
    }
}
