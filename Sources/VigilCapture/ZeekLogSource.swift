import CZlib
import Foundation
import VigilCore
import VigilWire

/// Reads a file line by line through zlib, so plain and gzip-compressed logs read alike.
final class GzipLineReader {
    private let file: gzFile
    let path: String
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var start = 0, end = 0
    private var line: [UInt8] = []
    private(set) var lineNumber = 0
    private var eof = false

    init(path: String) throws {
        guard let f = gzopen(path, "rb") else { throw VigilError.io("cannot open for reading", file: path) }
        file = f
        self.path = path
        gzbuffer(f, 1 << 17)
    }

    deinit { gzclose(file) }

    /// Calls `body` with the next line (without "\n" or "\r\n"); false at the end.
    func nextLine(_ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        line.removeAll(keepingCapacity: true)
        while true {
            if start == end {
                if eof { break }
                let n = buffer.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
                if n < 0 {
                    var errnum: Int32 = 0
                    let msg = String(cString: gzerror(file, &errnum))
                    eof = true
                    throw VigilError.badInput("decompression failed after line \(lineNumber): \(msg)", file: path, line: lineNumber + 1)
                }
                if n == 0 { eof = true; break }
                start = 0; end = Int(n)
            }
            if let nl = buffer[start..<end].firstIndex(of: 10) {
                line.append(contentsOf: buffer[start..<nl])
                start = nl + 1
                try finishLine(body)
                return true
            }
            line.append(contentsOf: buffer[start..<end])
            start = end
            if line.count > 16 << 20 {
                eof = true
                throw VigilError.badInput("line longer than 16 MiB", file: path, line: lineNumber + 1)
            }
        }
        if line.isEmpty { return false }
        try finishLine(body)
        return true
    }

    private func finishLine(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        lineNumber += 1
        if line.last == 13 { line.removeLast() }
        try line.withUnsafeBytes { try body($0) }
    }
}

/// One log file as a stream of records, with a small reorder buffer: Zeek writes a row when
/// its connection ends, so `ts` (the start) is only roughly in order within a file.
final class ZeekRecordStream {
    let file: String
    let kind: ObservationKind
    private let reader: GzipLineReader
    private var tsv: ZeekTSVParser
    private var json: Bool?
    private var heap = MinHeap<Timestamp, Observation>()
    private var exhausted = false
    let window: Int
    private(set) var rows = 0
    private let onError: (VigilError) -> Void

    init(file: String, kind: ObservationKind, window: Int, onError: @escaping (VigilError) -> Void) throws {
        self.file = file
        self.kind = kind
        self.window = max(1, window)
        self.onError = onError
        reader = try GzipLineReader(path: file)
        tsv = ZeekTSVParser(file: file)
    }

    /// The earliest buffered record's time (the buffer is refilled from the file first).
    func peekTime() -> Timestamp? {
        fill()
        return heap.minKey
    }

    func pop() -> Observation? {
        fill()
        return heap.popMin()
    }

    private func fill() {
        while !exhausted && heap.count < window {
            do {
                let more = try reader.nextLine { line in
                    guard !line.isEmpty else { return }
                    if json == nil { json = line[0] == UInt8(ascii: "{") }
                    let number = reader.lineNumber
                    do {
                        let row: ZeekRow
                        if json == true {
                            row = try ZeekLogSource.jsonRow(line, file: file, line: number)
                        } else {
                            guard case .row(let r) = try tsv.parse(line, number: number) else { return }
                            row = r
                        }
                        let o = try ZeekLogSource.observation(kind, row)
                        heap.push(o, key: o.ts)
                        rows += 1
                    } catch let e as VigilError {
                        onError(e)
                    }
                }
                if !more { exhausted = true }
            } catch let e as VigilError {
                onError(e)  // a broken file ends early; what was read is kept
                exhausted = true
            } catch {
                exhausted = true
            }
        }
    }
}

/// A directory of Zeek logs (TSV or JSON; conn, dns, http, ssl, ssh, dhcp), as Zeek's log
/// archive leaves it: rotated (`conn.23:00:00-00:00:00.log.gz`), gzipped, nested by day.
/// The files of one rotation period are merged and given out in `ts` order, streaming:
/// memory is bounded by the reorder window, not by the size of the logs.
public final class ZeekLogSource {
    public let root: String
    /// Rows that could not be read: file, line and field. The rest of the file goes on.
    public private(set) var errors: [VigilError] = []
    public private(set) var errorCount = 0
    public private(set) var rows = 0
    public private(set) var skippedFiles: [String] = []
    public let maxErrorsKept = 100
    /// Records held per file to put rows back in `ts` order.
    public var reorderWindow = 10_000

    public init(root: String) { self.root = root }

    /// The kind a file name belongs to: `conn.log`, `conn.log.labeled`, `conn.00:00:00-01:00:00.log.gz`.
    static func kind(of fileName: String) -> ObservationKind? {
        guard fileName.contains(".log") else { return nil }
        let stem = fileName.split(separator: ".", maxSplits: 1).first.map(String.init) ?? ""
        return ObservationKind(rawValue: stem)
    }

    /// The rotation period a file belongs to: its directory and whatever the name carries
    /// between the kind and ".log" (`.23:00:00-00:00:00`), so that conn, dns, http … of one
    /// hour merge, and `conn.log.labeled` goes with `dns.log`.
    static func period(_ path: String, kind: ObservationKind) -> String {
        let name = (path as NSString).lastPathComponent
        var rest = Substring(name.dropFirst(kind.rawValue.count))
        if let r = rest.range(of: ".log") { rest = rest[..<r.lowerBound] }
        return (path as NSString).deletingLastPathComponent + "/" + rest
    }

    /// All log files below `root`, grouped by rotation period, periods in name order.
    func groups() throws -> [[(String, ObservationKind)]] {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDir) else { throw VigilError.io("no such file or directory", file: root) }
        var files: [String] = []
        if !isDir.boolValue {
            files = [root]
        } else {
            guard let e = fm.enumerator(atPath: root) else { throw VigilError.io("cannot list directory", file: root) }
            for case let rel as String in e { files.append(root + "/" + rel) }
        }
        var byGroup: [String: [(String, ObservationKind)]] = [:]
        for f in files.sorted() {
            let name = (f as NSString).lastPathComponent
            guard let k = Self.kind(of: name) else {
                if name.contains(".log") { skippedFiles.append(f) }
                continue
            }
            byGroup[Self.period(f, kind: k), default: []].append((f, k))
        }
        return byGroup.keys.sorted().map { byGroup[$0] ?? [] }
    }

    /// Calls `body` with every record, one rotation period at a time, merged across the
    /// period's files in `ts` order (within the reorder window).
    public func forEach(_ body: (Observation) throws -> Void) throws {
        for group in try groups() {
            var streams: [ZeekRecordStream] = []
            for (file, kind) in group {
                do {
                    streams.append(try ZeekRecordStream(file: file, kind: kind, window: reorderWindow) { [unowned self] e in self.record(e) })
                } catch let e as VigilError { record(e) }
            }
            while true {
                var best = -1
                var bestTS = Timestamp.zero
                for (i, s) in streams.enumerated() {
                    guard let t = s.peekTime() else { continue }
                    if best < 0 || t < bestTS { best = i; bestTS = t }
                }
                guard best >= 0, let o = streams[best].pop() else { break }
                try body(o)
            }
            rows += streams.reduce(0) { $0 + $1.rows }
        }
    }

    private func record(_ e: VigilError) {
        errorCount += 1
        if errors.count < maxErrorsKept { errors.append(e) }
    }

    static func observation(_ kind: ObservationKind, _ row: ZeekRow) throws -> Observation {
        switch kind {
        case .conn: .conn(try ConnRecord(zeek: row))
        case .dns: .dns(try DNSRecord(zeek: row))
        case .http: .http(try HTTPRecord(zeek: row))
        case .ssl: .tls(try TLSRecord(zeek: row))
        case .ssh: .ssh(try SSHRecord(zeek: row))
        case .dhcp: .dhcp(try DHCPRecord(zeek: row))
        }
    }

    /// One JSON log line (Foundation's JSON parser) as a row of Zeek cells.
    static func jsonRow(_ line: UnsafeRawBufferPointer, file: String, line number: Int) throws -> ZeekRow {
        let data = Data(line)
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw VigilError.badInput("not valid JSON", file: file, line: number)
        }
        guard let dict = object as? [String: Any] else {
            throw VigilError.badInput("a JSON log line must be an object", file: file, line: number)
        }
        var cells: [String: ZeekCell] = [:]
        for (k, v) in dict {
            if let a = v as? [Any] { cells[k] = .list(a.map(scalarText)) }
            else if v is NSNull { cells[k] = .unset }
            else { cells[k] = .text(scalarText(v)) }
        }
        return ZeekRow(cells: cells, file: file, line: number)
    }

    static func scalarText(_ v: Any) -> String {
        if let n = v as? NSNumber {
            if String(cString: n.objCType) == "c" { return n.boolValue ? "T" : "F" }
            return n.stringValue
        }
        if let s = v as? String { return s }
        return "\(v)"
    }
}

/// Which file names are Zeek logs Vigil reads.
public enum ZeekLogSourceKind {
    public static func isLogName(_ name: String) -> Bool { ZeekLogSource.kind(of: name) != nil }
}
