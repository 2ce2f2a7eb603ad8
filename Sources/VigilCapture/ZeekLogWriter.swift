import Foundation
import VigilCore
import VigilWire

/// Writes observations into a directory of Zeek logs, one file per kind, opened on first use.
/// A record carrying fields the open file's header lacks starts a new part file, so nothing
/// read from another tool's logs is dropped.
public final class ZeekLogWriter: ObservationSink {
    public let directory: String
    public let style: ZeekLogFormatter.Style
    /// One open log file. A class, so its buffer is appended to in place.
    private final class Open {
        let formatter: ZeekLogFormatter
        let handle: UnsafeMutablePointer<FILE>
        let extras: Set<String>
        let part: Int
        // One writer serves one thread (it is not Sendable): no dynamic exclusivity check per record.
        @exclusivity(unchecked) var buffer: [UInt8]
        @exclusivity(unchecked) var lastTime: Timestamp
        init(formatter: ZeekLogFormatter, handle: UnsafeMutablePointer<FILE>, extras: Set<String>, part: Int, buffer: [UInt8], lastTime: Timestamp) {
            self.formatter = formatter; self.handle = handle; self.extras = extras; self.part = part
            self.buffer = buffer; self.lastTime = lastTime
            self.buffer.reserveCapacity(1 << 17)
        }
    }
    /// Open files and records written, indexed by `ObservationKind.ordinal` (no hashing per record).
    @exclusivity(unchecked) private var files = [Open?](repeating: nil, count: ObservationKind.allCases.count)
    @exclusivity(unchecked) private var counts = [Int](repeating: 0, count: ObservationKind.allCases.count)
    /// Records written, by kind (kinds with none are left out).
    public var written: [ObservationKind: Int] {
        var w: [ObservationKind: Int] = [:]
        for k in ObservationKind.allCases where counts[k.ordinal] > 0 { w[k] = counts[k.ordinal] }
        return w
    }

    public init(directory: String, style: ZeekLogFormatter.Style) throws {
        self.directory = directory
        self.style = style
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw VigilError.io("cannot create output directory: \(error.localizedDescription)", file: directory)
        }
    }

    public func consume(_ o: Observation) throws {
        switch o {
        case .conn(let r): try write(r, kind: .conn, ts: r.ts)
        case .dns(let r): try write(r, kind: .dns, ts: r.ts)
        case .http(let r): try write(r, kind: .http, ts: r.ts)
        case .tls(let r): try write(r, kind: .ssl, ts: r.ts)
        case .ssh(let r): try write(r, kind: .ssh, ts: r.ts)
        case .dhcp(let r): try write(r, kind: .dhcp, ts: r.ts)
        }
    }

    private func fileName(_ kind: ObservationKind, part: Int) -> String {
        // Zeek names JSON logs conn.log too; RITA and Zeek tools look for these names.
        part == 1 ? "\(directory)/\(kind.rawValue).log" : "\(directory)/\(kind.rawValue).part\(part).log"
    }

    private func write<R: ZeekLoggable>(_ r: R, kind: ObservationKind, ts: Timestamp) throws {
        let slot = kind.ordinal
        if let f = files[slot], r.extra.isEmpty || r.extra.keys.allSatisfy({ f.extras.contains($0) }) {
            f.formatter.append(r, to: &f.buffer)
            if ts > f.lastTime { f.lastTime = ts }
            if f.buffer.count >= 1 << 16 { try flush(f) }
        } else {
            let extraKeys = Set(r.extra.keys)
            var part = 1
            if let old = files[slot] {
                part = old.part + 1
                try close(old)
            }
            let formatter = ZeekLogFormatter(R.self, style: style, extraColumns: extraKeys.sorted())
            let path = fileName(kind, part: part)
            guard let h = fopen(path, "w") else {
                throw VigilError.io("cannot create: \(String(cString: strerror(errno)))", file: path)
            }
            let f = Open(formatter: formatter, handle: h, extras: extraKeys, part: part,
                         buffer: Array(formatter.header(openedAt: ts).utf8), lastTime: ts)
            formatter.append(r, to: &f.buffer)
            files[slot] = f
        }
        counts[slot] += 1
    }

    private func flush(_ f: Open) throws {
        let n = f.buffer.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f.handle) }
        if n != f.buffer.count {
            throw VigilError.io("write failed: \(String(cString: strerror(errno)))", file: directory)
        }
        f.buffer.removeAll(keepingCapacity: true)
    }

    private func close(_ f: Open) throws {
        f.buffer.append(contentsOf: f.formatter.footer(closedAt: f.lastTime).utf8)
        try flush(f)
        fclose(f.handle)
    }

    /// Writes the footers and closes every file.
    public func finish() throws {
        for k in files.indices {
            guard let f = files[k] else { continue }
            try close(f)
            files[k] = nil
        }
    }

    deinit { for case let f? in files { fclose(f.handle) } }
}
