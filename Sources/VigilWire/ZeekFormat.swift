import VigilCore

/// Writes Zeek logs: the ASCII/TSV layout with its `#` header, or JSON lines (Zeek's
/// `LogAscii::use_json`). Pure formatting into byte buffers; files are the caller's.
public struct ZeekLogFormatter {
    public enum Style: Sendable { case tsv, json }
    public let style: Style
    public let path: String
    public let columns: [ZeekColumn]
    let standardCount: Int

    public init(_ type: any ZeekLoggable.Type, style: Style, extraColumns: [String] = []) {
        self.style = style
        path = type.zeekPath
        let std = type.zeekColumns
        standardCount = std.count
        let known = Set(std.map(\.name))
        columns = std + extraColumns.filter { !known.contains($0) }.map { ZeekColumn($0, "string") }
    }

    /// "#separator … #types" for TSV; nothing for JSON.
    public func header(openedAt t: Timestamp) -> String {
        guard style == .tsv else { return "" }
        return "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t\(path)\n"
            + "#open\t\(Self.stamp(t))\n#fields\t" + columns.map(\.name).joined(separator: "\t")
            + "\n#types\t" + columns.map(\.type).joined(separator: "\t") + "\n"
    }

    public func footer(closedAt t: Timestamp) -> String {
        style == .tsv ? "#close\t\(Self.stamp(t))\n" : ""
    }

    static func stamp(_ t: Timestamp) -> String {
        let iso = t.iso8601  // 2024-04-19T23:00:03.318246Z
        let date = iso.prefix(10)
        let time = iso.dropFirst(11).prefix(8).replacingColons()
        return "\(date)-\(time)"
    }

    /// Appends one record as a line.
    public func append(_ record: some ZeekLoggable, to out: inout [UInt8]) {
        let cells = record.zeekCells()
        let extra = record.extra
        var first = true
        if style == .json { out.append(UInt8(ascii: "{")) }
        for (k, col) in columns.enumerated() {
            var cell: ZeekCell
            if k < standardCount, let c = cells[k] { cell = c }
            else if let x = extra[col.name] { cell = col.isContainer ? .list(x.isEmpty ? [] : x.split(separator: ",", omittingEmptySubsequences: false).map(String.init)) : .text(x) }
            else { cell = .unset }
            switch style {
            case .tsv:
                if !first { out.append(9) }
                Self.tsv(cell, container: col.isContainer, to: &out)
            case .json:
                if case .unset = cell { continue }
                if !first { out.append(UInt8(ascii: ",")) }
                Self.jsonString(col.name, to: &out)
                out.append(UInt8(ascii: ":"))
                Self.json(cell, type: col, to: &out)
            }
            first = false
        }
        if style == .json { out.append(UInt8(ascii: "}")) }
        out.append(10)
    }

    static func tsv(_ cell: ZeekCell, container: Bool, to out: inout [UInt8]) {
        switch cell {
        case .unset:
            out.append(UInt8(ascii: "-"))
        case .text(let s):
            if s.isEmpty { out.append(contentsOf: "(empty)".utf8); return }
            escape(s, setSeparator: false, to: &out)
        case .list(let l):
            if l.isEmpty { out.append(contentsOf: "(empty)".utf8); return }
            for (i, e) in l.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                escape(e, setSeparator: true, to: &out)
            }
        }
    }

    static func escape(_ s: String, setSeparator: Bool, to out: inout [UInt8]) {
        if s == "-" || s == "(empty)" {
            appendHex(s.utf8.first ?? 0, to: &out)
            out.append(contentsOf: s.utf8.dropFirst())
            return
        }
        for b in s.utf8 {
            if b < 0x20 || b == 0x7F || b == 0x5C || (setSeparator && b == 0x2C) { appendHex(b, to: &out) }
            else { out.append(b) }
        }
    }

    static func appendHex(_ b: UInt8, to out: inout [UInt8]) {
        let digits = Array("0123456789abcdef".utf8)
        out.append(contentsOf: [0x5C, 0x78, digits[Int(b >> 4)], digits[Int(b & 15)]])
    }

    static func isNumeric(_ type: String) -> Bool {
        ["time", "interval", "count", "int", "port", "double"].contains(type)
    }

    static func json(_ cell: ZeekCell, type col: ZeekColumn, to out: inout [UInt8]) {
        switch cell {
        case .unset:
            out.append(contentsOf: "null".utf8)
        case .text(let s):
            jsonScalar(s, type: col.type, to: &out)
        case .list(let l):
            out.append(UInt8(ascii: "["))
            for (i, e) in l.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                jsonScalar(e, type: col.elementType, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
    }

    static func jsonScalar(_ s: String, type: String, to out: inout [UInt8]) {
        if isNumeric(type), !s.isEmpty, s.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D || $0 == 0x65 || $0 == 0x2B }) {
            out.append(contentsOf: s.utf8)
        } else if type == "bool", s == "T" || s == "F" {
            out.append(contentsOf: (s == "T" ? "true" : "false").utf8)
        } else {
            jsonString(s, to: &out)
        }
    }

    static func jsonString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20, 0x7F:
                let digits = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, digits[Int(b >> 4)], digits[Int(b & 15)]])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension Substring {
    func replacingColons() -> String { String(map { $0 == ":" ? "-" : $0 }) }
}

/// Reads Zeek's TSV layout line by line: header directives, then rows by field name.
/// Pure: the caller hands it lines.
public struct ZeekTSVParser {
    public private(set) var path: String?
    public private(set) var fields: [String] = []
    public private(set) var types: [String] = []
    var separator: UInt8 = 9
    var setSeparator: UInt8 = UInt8(ascii: ",")
    var emptyField = "(empty)"
    var unsetField = "-"
    public let file: String

    public init(file: String) { self.file = file }

    public enum Line { case header, row(ZeekRow), skip }

    /// Handles one line (without its newline). `number` is 1-based for messages.
    public mutating func parse(_ line: UnsafeRawBufferPointer, number: Int) throws -> Line {
        if line.isEmpty { return .skip }
        // A header directive, tolerating stray leading blanks some tools leave.
        var lead = 0
        while lead < line.count, line[lead] == 9 || line[lead] == 32 { lead += 1 }
        if lead < line.count, line[lead] == UInt8(ascii: "#") {
            let text = String(decoding: line.from(lead), as: UTF8.self)
            if text.hasPrefix("#separator ") {
                let v = text.dropFirst(11)
                if v.hasPrefix("\\x"), let b = UInt8(v.dropFirst(2).prefix(2), radix: 16) { separator = b }
                else if let b = v.utf8.first { separator = b }
                return .header
            }
            let parts = splitHeader(text)
            guard let key = parts.first else { return .header }
            let rest = Array(parts.dropFirst())
            switch key {
            case "#set_separator": if let v = rest.first?.utf8.first { setSeparator = v }
            case "#empty_field": emptyField = rest.first ?? "(empty)"
            case "#unset_field": unsetField = rest.first ?? "-"
            case "#path": path = rest.first
            case "#fields": fields = rest
            case "#types": types = rest
            default: break
            }
            return .header
        }
        guard !fields.isEmpty else {
            throw VigilError.badInput("row before any #fields header; is this a Zeek TSV log?", file: file, line: number)
        }
        var cells: [String: ZeekCell] = [:]
        cells.reserveCapacity(fields.count)
        var col = 0
        var start = 0
        let n = line.count
        var i = 0
        while i <= n {
            if i == n || line[i] == separator {
                guard col < fields.count else {
                    throw VigilError.badInput("more values than the \(fields.count) #fields", file: file, line: number)
                }
                let raw = line.slice(start, i - start)
                let isSet = col < types.count && (types[col].hasPrefix("set[") || types[col].hasPrefix("vector["))
                cells[fields[col]] = cell(raw, isSet: isSet)
                col += 1
                start = i + 1
            }
            i += 1
        }
        guard col == fields.count else {
            throw VigilError.badInput("\(col) values where #fields names \(fields.count)", file: file, line: number,
                                      field: col < fields.count ? fields[col] : nil)
        }
        return .row(ZeekRow(cells: cells, file: file, line: number))
    }

    private func splitHeader(_ text: String) -> [String] {
        text.split(separator: Character(Unicode.Scalar(separator)), omittingEmptySubsequences: false).map(String.init)
    }

    private func cell(_ raw: UnsafeRawBufferPointer, isSet: Bool) -> ZeekCell {
        if raw.count == unsetField.utf8.count && raw.elementsEqual(unsetField.utf8) { return .unset }
        if raw.count == emptyField.utf8.count && raw.elementsEqual(emptyField.utf8) { return isSet ? .list([]) : .text("") }
        if isSet {
            var items: [String] = []
            var s = 0
            for k in 0...raw.count where k == raw.count || raw[k] == setSeparator {
                items.append(Self.unescape(raw.slice(s, k - s)))
                s = k + 1
            }
            return .list(items)
        }
        return .text(Self.unescape(raw))
    }

    static func unescape(_ raw: UnsafeRawBufferPointer) -> String {
        guard raw.contains(0x5C) else { return String(decoding: raw, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        while i < raw.count {
            if raw[i] == 0x5C, i + 3 < raw.count, raw[i + 1] == UInt8(ascii: "x"),
               let v = UInt8(String(decoding: raw.slice(i + 2, 2), as: UTF8.self), radix: 16) {
                out.append(v)
                i += 4
            } else {
                out.append(raw[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
