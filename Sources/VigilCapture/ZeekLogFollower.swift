import Foundation
import VigilCore
import VigilWire

/// Follows a Zeek log directory as Zeek writes it (`/opt/zeek/logs/current`): each `poll()`
/// reads the complete lines appended to every log file since the last poll. A file that
/// shrinks or is replaced (Zeek rotates by renaming and starting a new file) is read again
/// from its start. Rows that cannot be read are counted and reported with file and line.
public final class ZeekLogFollower {
    struct Tail {
        var inode: UInt64
        var offset: UInt64
        var line = 0
        var tsv: ZeekTSVParser
        var json: Bool?
        var partial: [UInt8] = []
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
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        let inode = UInt64(st.st_ino), size = UInt64(st.st_size)
        var t = tails[path] ?? Tail(inode: inode, offset: 0, tsv: ZeekTSVParser(file: path))
        if t.inode != inode || size < t.offset { t = Tail(inode: inode, offset: 0, tsv: ZeekTSVParser(file: path)) }
        defer { tails[path] = t }
        guard size > t.offset, let h = FileHandle(forReadingAtPath: path) else { return }
        defer { try? h.close() }
        do { try h.seek(toOffset: t.offset) } catch { return }
        let want = Int(min(size - t.offset, UInt64(maxBytesPerPoll)))
        guard let data = try? h.read(upToCount: want), !data.isEmpty else { return }
        t.offset += UInt64(data.count)
        var bytes = t.partial
        bytes.append(contentsOf: data)
        var start = 0
        while let nl = bytes[start...].firstIndex(of: 10) {
            var end = nl
            if end > start, bytes[end - 1] == 13 { end -= 1 }
            t.line += 1
            if end > start {
                bytes[start..<end].withUnsafeBytes { line in
                    if t.json == nil { t.json = line[0] == UInt8(ascii: "{") }
                    do {
                        let row: ZeekRow
                        if t.json == true { row = try ZeekLogSource.jsonRow(line, file: path, line: t.line) }
                        else {
                            guard case .row(let r) = try t.tsv.parse(line, number: t.line) else { return }
                            row = r
                        }
                        emit(try ZeekLogSource.observation(kind, row))
                        rows += 1
                    } catch let e as VigilError { note(e) } catch { note(.badInput("\(error)", file: path, line: t.line)) }
                }
            }
            start = nl + 1
        }
        // A line Zeek has not finished writing waits for the next poll (bounded: a "line" of
        // more than 1 MiB is not a Zeek row and is dropped).
        t.partial = bytes.count - start <= 1 << 20 ? Array(bytes[start...]) : []
    }
}
