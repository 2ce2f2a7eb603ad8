import Foundation
import VigilCore
import VigilWire

/// One outside alert format: how to recognise its records and turn one into alerts.
/// A new format is one file with an `AlertFormat` plus one line in `AlertFormatRegistry.all`.
public struct AlertFormat: Sendable {
    public let name: String
    /// Whether a record (a JSON object, or a Zeek row read as one) is this format's.
    let recognizes: @Sendable (AlertRecord) -> Bool
    /// The alerts in a record; empty for records of the format that are not alerts
    /// (Suricata's flow and dns events, say).
    let decode: @Sendable (AlertRecord) throws -> [Alert]
}

public enum AlertFormatRegistry {
    /// Order matters where formats overlap: the more specific first.
    public static let all: [AlertFormat] = [
        SuricataEVE.format,
        ZeekNotice.format,
        OCSFDetectionFinding.format,
        CrowdStrikeDetection.format,
        DefenderAlert.format,
        SentinelOneThreat.format,
        SigmaMatch.format,
    ]
}

/// One record of an alert file with where it came from, and lookups by dotted path.
public struct AlertRecord {
    public let object: [String: Any]
    public let raw: String
    public let file: String
    public let line: Int

    /// "file:line", the id of an alert whose source gives none.
    var place: String { "\((file as NSString).lastPathComponent):\(line)" }

    func value(_ path: String) -> Any? {
        // Zeek rows (TSV, and JSON written with flat names) keep dotted names whole: "id.orig_h".
        var cur: Any? = object[path]
        if cur == nil {
            cur = object
            for part in path.split(separator: ".") {
                guard let d = cur as? [String: Any], let v = d[String(part)] else { return nil }
                cur = v
            }
        }
        return cur is NSNull ? nil : cur
    }

    /// The first of several paths that holds non-empty text (numbers are given as text).
    func string(_ paths: String...) -> String? {
        for p in paths {
            switch value(p) {
            case let s as String where !s.isEmpty && s != "-": return s
            case let n as NSNumber: return n.stringValue
            default: continue
            }
        }
        return nil
    }

    func number(_ paths: String...) -> Double? {
        for p in paths {
            switch value(p) {
            case let n as NSNumber: return n.doubleValue
            case let s as String: if let d = Double(s) { return d }
            default: continue
            }
        }
        return nil
    }

    /// Text values at a path that holds one value or a list.
    func strings(_ path: String) -> [String] {
        switch value(path) {
        case let a as [Any]: a.compactMap { ($0 as? String) ?? ($0 as? NSNumber)?.stringValue }.filter { !$0.isEmpty }
        case let s as String: s.isEmpty || s == "-" ? [] : [s]
        default: []
        }
    }

    func objects(_ path: String) -> [[String: Any]] { (value(path) as? [Any])?.compactMap { $0 as? [String: Any] } ?? [] }

    func time(_ paths: String...) throws -> Timestamp {
        for p in paths { if let v = value(p), let t = AlertTime.parse(v) { return t } }
        throw VigilError.badInput("no readable time (looked at \(paths.joined(separator: ", ")))", file: file, line: line, field: paths.first)
    }

    func fail(_ field: String, _ why: String) -> VigilError { .badInput(why, file: file, line: line, field: field) }

    /// An address or nil; a port or nil.
    func address(_ paths: String...) -> IPAddress? {
        for p in paths { if let s = string(p), let ip = IPAddress(s) { return ip } }
        return nil
    }
    func port(_ paths: String...) -> UInt16? {
        for p in paths { if let n = number(p), n >= 0, n <= 65535 { return UInt16(n) } }
        return nil
    }
}

/// Times as alert sources write them: ISO-8601 with any offset form, or epoch seconds,
/// milliseconds or microseconds.
enum AlertTime {
    static func parse(_ v: Any) -> Timestamp? {
        if let n = v as? NSNumber { return epoch(n.doubleValue) }
        guard let s = v as? String else { return nil }
        if let d = Double(s) { return epoch(d) }
        return Timestamp(iso8601: s)
    }

    static func epoch(_ d: Double) -> Timestamp? {
        guard d.isFinite, d > 0 else { return nil }
        return Timestamp(epochSeconds: d > 1e17 ? d / 1e9 : d > 1e14 ? d / 1e6 : d > 1e11 ? d / 1e3 : d)
    }
}

/// Reads alert files: JSON lines (Suricata EVE, Zeek notice JSON, EDR exports, OCSF,
/// Hayabusa), a JSON array (Chainsaw, Zircolite, API exports), or a Zeek notice.log in TSV;
/// plain or gzipped. Each record is matched to its format by content. A malformed line is
/// reported by file and line and skipped; the rest is read.
public struct AlertReader {
    public private(set) var alerts: [Alert] = []
    public private(set) var problems: [VigilError] = []
    public private(set) var records = 0
    /// Records no format recognised, by file.
    public private(set) var unrecognised = 0
    public let maxProblemsKept = 100
    public private(set) var problemCount = 0

    public init() {}

    public mutating func read(_ path: String) {
        let reader: GzipLineReader
        do { reader = try GzipLineReader(path: path) } catch let e as VigilError { note(e); return } catch { return }
        var tsv: ZeekTSVParser?
        var arrayText: [UInt8]? = nil
        var sawContent = false
        do {
            while try reader.nextLine({ bytes in
                if arrayText != nil {
                    guard arrayText!.count < 512 << 20 else { return }
                    arrayText!.append(contentsOf: bytes); arrayText!.append(10); return
                }
                guard let firstByte = bytes.first(where: { $0 != 32 && $0 != 9 && $0 != 13 }) else { return }
                let number = reader.lineNumber
                if !sawContent && firstByte == UInt8(ascii: "[") { arrayText = Array(bytes); arrayText!.append(10); return }
                sawContent = true
                readLine(bytes, file: path, line: number, tsv: &tsv)
            }) {}
        } catch let e as VigilError { note(e) } catch {}
        if let text = arrayText {
            guard let array = (try? JSONSerialization.jsonObject(with: Data(text))) as? [Any] else {
                note(.badInput("the file starts with '[' but is not a JSON array", file: path, line: 1))
                return
            }
            for (i, element) in array.enumerated() {
                guard let o = element as? [String: Any] else {
                    note(.badInput("array element \(i + 1) is not an object", file: path, line: nil, field: "[\(i)]"))
                    continue
                }
                let raw = (try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? ""
                take(AlertRecord(object: o, raw: raw, file: path, line: i + 1))
            }
        }
    }

    /// One line of an alert file: a JSON object (EVE, EDR exports, OCSF, Sigma engines) or a
    /// line of a Zeek notice.log (`tsv` keeps its header state between lines). A file followed
    /// as it grows is read this way, line by line.
    public mutating func readLine(_ bytes: UnsafeRawBufferPointer, file path: String, line number: Int, tsv: inout ZeekTSVParser?) {
        guard let firstByte = bytes.first(where: { $0 != 32 && $0 != 9 && $0 != 13 }) else { return }
        if firstByte == UInt8(ascii: "#") || tsv != nil {
            if tsv == nil { tsv = ZeekTSVParser(file: path) }
            do {
                if case .row(let r) = try tsv!.parse(bytes, number: number) {
                    var object: [String: Any] = [:]
                    for (k, v) in r.cells {
                        switch v {
                        case .unset: break
                        case .text(let s): object[k] = s
                        case .list(let l): object[k] = l
                        }
                    }
                    if object["note"] != nil, object["_path"] == nil { object["_path"] = "notice" }
                    take(AlertRecord(object: object, raw: String(decoding: bytes, as: UTF8.self), file: path, line: number))
                }
            } catch let e as VigilError { note(e) } catch {}
            return
        }
        let raw = String(decoding: bytes, as: UTF8.self)
        guard let o = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
            note(.badInput("not a JSON object (alert files are JSON lines, a JSON array, or a Zeek notice.log)", file: path, line: number))
            return
        }
        take(AlertRecord(object: o, raw: raw, file: path, line: number))
    }

    /// Hands over the alerts read so far (a follower drains them after each poll).
    public mutating func drainAlerts() -> [Alert] {
        defer { alerts = [] }
        return alerts
    }

    private mutating func take(_ r: AlertRecord) {
        records += 1
        guard let format = AlertFormatRegistry.all.first(where: { $0.recognizes(r) }) else { unrecognised += 1; return }
        do { alerts += try format.decode(r) } catch let e as VigilError { note(e) } catch {
            note(.badInput("\(format.name): \(error)", file: r.file, line: r.line))
        }
    }

    private mutating func note(_ e: VigilError) {
        problemCount += 1
        if problems.count < maxProblemsKept { problems.append(e) }
    }
}
