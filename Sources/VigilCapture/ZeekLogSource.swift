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

    /// Calls `body` with each line (without "\n" or "\r\n").
    func forEachLine(_ body: (UnsafeRawBufferPointer, Int) throws -> Void) throws {
        while true {
            if start == end {
                if eof { break }
                let n = buffer.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
                if n < 0 {
                    var errnum: Int32 = 0
                    let msg = String(cString: gzerror(file, &errnum))
                    throw VigilError.badInput("decompression failed after line \(lineNumber): \(msg)", file: path, line: lineNumber + 1)
                }
                if n == 0 { eof = true; if line.isEmpty { break } else { lineNumber += 1; try emit(body); break } }
                start = 0; end = Int(n)
            }
            if let nl = buffer[start..<end].firstIndex(of: 10) {
                line.append(contentsOf: buffer[start..<nl])
                start = nl + 1
                lineNumber += 1
                try emit(body)
            } else {
                line.append(contentsOf: buffer[start..<end])
                start = end
                if line.count > 16 << 20 {
                    throw VigilError.badInput("line longer than 16 MiB", file: path, line: lineNumber + 1)
                }
            }
        }
    }

    private func emit(_ body: (UnsafeRawBufferPointer, Int) throws -> Void) throws {
        if line.last == 13 { line.removeLast() }
        try line.withUnsafeBytes { try body($0, lineNumber) }
        line.removeAll(keepingCapacity: true)
    }
}

/// A directory of Zeek logs (TSV or JSON; conn, dns, http, ssl, ssh, dhcp), as Zeek's log
/// archive leaves it: rotated (`conn.23:00:00-00:00:00.log.gz`), gzipped, nested by day.
/// Logs of one rotation period are merged and given out in `ts` order.
public final class ZeekLogSource {
    public let root: String
    /// Rows that could not be read: file, line and field. The rest of the file goes on.
    public private(set) var errors: [VigilError] = []
    public private(set) var errorCount = 0
    public private(set) var rows = 0
    public private(set) var skippedFiles: [String] = []
    public let maxErrorsKept = 100

    public init(root: String) { self.root = root }

    /// The kind a file name belongs to: `conn.log`, `conn.log.labeled`, `conn.00:00:00-01:00:00.log.gz`.
    static func kind(of fileName: String) -> ObservationKind? {
        guard fileName.contains(".log") else { return nil }
        let stem = fileName.split(separator: ".", maxSplits: 1).first.map(String.init) ?? ""
        return ObservationKind(rawValue: stem)
    }

    /// All log files below `root`, grouped by rotation period (same directory and suffix).
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
            let dir = (f as NSString).deletingLastPathComponent
            let suffix = name.dropFirst(k.rawValue.count)
            byGroup[dir + "/" + suffix, default: []].append((f, k))
        }
        return byGroup.keys.sorted().map { byGroup[$0] ?? [] }
    }

    /// Calls `body` with every record, one rotation period at a time, in `ts` order within it.
    public func forEach(_ body: (Observation) throws -> Void) throws {
        for group in try groups() {
            var batch: [Observation] = []
            for (file, kind) in group { try read(file, kind: kind, into: &batch) }
            // Stable by ts: the sort keeps file order for equal times.
            let ordered = batch.enumerated().sorted { a, b in
                a.element.ts != b.element.ts ? a.element.ts < b.element.ts : a.offset < b.offset
            }
            for (_, o) in ordered { try body(o) }
        }
    }

    func read(_ file: String, kind: ObservationKind, into out: inout [Observation]) throws {
        let reader = try GzipLineReader(path: file)
        var tsv = ZeekTSVParser(file: file)
        var json: Bool? = nil
        do {
            try reader.forEachLine { line, number in
                guard !line.isEmpty else { return }
                if json == nil { json = line[0] == UInt8(ascii: "{") }
                do {
                    let row: ZeekRow
                    if json == true {
                        row = try Self.jsonRow(line, file: file, line: number)
                    } else {
                        guard case .row(let r) = try tsv.parse(line, number: number) else { return }
                        row = r
                    }
                    out.append(try Self.observation(kind, row))
                    rows += 1
                } catch let e as VigilError {
                    record(e)
                }
            }
        } catch let e as VigilError {
            record(e)  // a broken file ends early; what was read is kept
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
