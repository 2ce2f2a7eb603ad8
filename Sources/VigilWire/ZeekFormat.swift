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

    /// Scratch space rows are written into, reused across rows.
    private let scratch = ScratchBuffer()

    /// Appends one record as a line.
    public func append<R: ZeekLoggable>(_ record: R, to out: inout [UInt8]) {
        var w = ZeekRowWriter(style: style, columns: columns, extra: record.extra,
                              out: ByteSink(base: scratch.base, capacity: scratch.capacity))
        if style == .json { w.out.append(UInt8(ascii: "{")) }
        record.writeZeek(&w)
        while w.column < columns.count { w.fromExtra() }
        if style == .json { w.out.append(UInt8(ascii: "}")) }
        w.out.append(10)
        scratch.adopt(w.out)
        out.append(contentsOf: UnsafeBufferPointer(start: w.out.base, count: w.out.count))
    }

    /// Seconds with six decimals from nanoseconds, rounded to the microsecond (Zeek's %.6f).
    static func appendFixed6(_ nanos: Int64, to out: inout ByteSink) {
        var n = nanos
        if n < 0 { out.append(UInt8(ascii: "-")); n = -n }
        let micros = UInt64((n + 500) / 1000)
        out.appendDecimal(micros / 1_000_000)
        out.append(UInt8(ascii: "."))
        out.appendDigits(micros % 1_000_000, width: 6)
    }

    static func appendAddress(_ a: IPAddress, to out: inout ByteSink) {
        var tmp: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &tmp) { buf in
            let n = a.writeText(into: buf)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[0..<n]))
        }
    }

    static let emptyField: [UInt8] = Array("(empty)".utf8)


    @inline(__always)
    static func appendEmpty(to out: inout ByteSink) { emptyField.withUnsafeBytes { out.append(contentsOf: $0) } }

    static func escape(_ s: String, setSeparator: Bool, to out: inout ByteSink) {
        // Read in place (a native or small string always has contiguous UTF-8); a bridged
        // string, which Vigil never makes, is copied first.
        if let done: Void = s.utf8.withContiguousStorageIfAvailable({ escape(bytes: $0, setSeparator: setSeparator, to: &out) }) {
            return done
        }
        var copy = s
        copy.withUTF8 { escape(bytes: $0, setSeparator: setSeparator, to: &out) }
    }

    static func escape(bytes: UnsafeBufferPointer<UInt8>, setSeparator: Bool, to out: inout ByteSink) {
        // A value that reads as the unset or empty marker is escaped on its first byte.
        if (bytes.count == 1 && bytes[0] == 0x2D) || (bytes.count == 7 && bytes[0] == 0x28 && bytes.elementsEqual(emptyField)) {
            appendHex(bytes[0], to: &out)
            out.append(contentsOf: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[1...])))
            return
        }
        // Most values need no escaping: copy them whole.
        // Controls, DEL and backslash always; the set separator inside sets.
        let sep: UInt8 = setSeparator ? 0x2C : 0x5C
        if !needsEscape(bytes, sep) { out.append(contentsOf: UnsafeRawBufferPointer(bytes)); return }
        for b in bytes {
            if needsEscape(b, sep) { appendHex(b, to: &out) } else { out.append(b) }
        }
    }

    /// Controls, DEL and backslash always need escaping; `sep` too (the set separator inside sets).
    @inline(__always)
    static func needsEscape(_ b: UInt8, _ sep: UInt8) -> Bool { b < 0x20 || b == 0x7F || b == 0x5C || b == sep }

    /// Whether any byte is a control, DEL, backslash or `sep`: eight bytes a step (SWAR),
    /// then the tail one by one.
    @inline(__always)
    static func needsEscape(_ bytes: UnsafeBufferPointer<UInt8>, _ sep: UInt8) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZero(_ x: UInt64) -> Bool { (x &- ones) & ~x & highs != 0 }
        @inline(__always) func hasLess(_ x: UInt64, _ n: UInt64) -> Bool { (x &- ones &* n) & ~x & highs != 0 }
        let raw = UnsafeRawBufferPointer(bytes)
        var i = 0
        while i + 8 <= raw.count {
            let x = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            if hasLess(x, 0x20) || hasZero(x ^ (ones &* 0x7F)) || hasZero(x ^ (ones &* 0x5C)) || hasZero(x ^ (ones &* UInt64(sep))) {
                return true
            }
            i += 8
        }
        while i < raw.count {
            if needsEscape(raw[i], sep) { return true }
            i += 1
        }
        return false
    }

    static func appendHex(_ b: UInt8, to out: inout ByteSink) {
        let digits: StaticString = "0123456789abcdef"
        out.append(0x5C); out.append(0x78)
        out.append(digits.utf8Start[Int(b >> 4)]); out.append(digits.utf8Start[Int(b & 15)])
    }

    static func isNumeric(_ type: String) -> Bool {
        switch type {
        case "time", "interval", "count", "int", "port", "double": true
        default: false
        }
    }

    static func jsonScalar(_ s: String, type: String, to out: inout ByteSink) {
        if isNumeric(type), !s.isEmpty, s.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D || $0 == 0x65 || $0 == 0x2B }) {
            out.append(contentsOf: s.utf8)
        } else if type == "bool", s == "T" || s == "F" {
            out.append(contentsOf: (s == "T" ? "true" : "false").utf8)
        } else {
            jsonString(s, to: &out)
        }
    }

    static func jsonString(_ s: String, to out: inout ByteSink) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20, 0x7F:
                let digits: StaticString = "0123456789abcdef"
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, digits.utf8Start[Int(b >> 4)], digits.utf8Start[Int(b & 15)]])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// Writes one row's values in column order, in TSV or JSON, straight into the byte buffer.
/// Records call it field by field (`ZeekLoggable.writeZeek`); nothing is boxed per value.
public struct ZeekRowWriter {
    let style: ZeekLogFormatter.Style
    let columns: [ZeekColumn]
    let extra: ExtraFields
    var out: ByteSink
    var column = 0
    var wrote = false

    /// Starts a value: the separator, and in JSON the field name. False for JSON when unset.
    @inline(__always)
    private mutating func begin(set: Bool) -> Bool {
        if style == .tsv {
            if column > 0 { out.append(9) }
            column += 1
            return true
        }
        defer { column += 1 }
        guard set else { return false }
        if wrote { out.append(UInt8(ascii: ",")) }
        wrote = true
        ZeekLogFormatter.jsonString(column < columns.count ? columns[column].name : "?", to: &out)
        out.append(UInt8(ascii: ":"))
        return true
    }

    public mutating func unset() {
        if begin(set: false) { out.append(UInt8(ascii: "-")) }
    }

    public mutating func text(_ s: String?) {
        guard let s else { unset(); return }
        if style == .json {
            let type = column < columns.count ? columns[column].type : "string"
            guard begin(set: true) else { return }
            ZeekLogFormatter.jsonScalar(s, type: type, to: &out)
            return
        }
        _ = begin(set: true)
        if s.isEmpty { ZeekLogFormatter.appendEmpty(to: &out) } else { ZeekLogFormatter.escape(s, setSeparator: false, to: &out) }
    }

    public mutating func list(_ l: [String]) {
        if style == .tsv {
            _ = begin(set: true)
            if l.isEmpty { ZeekLogFormatter.appendEmpty(to: &out); return }
            for (i, e) in l.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                ZeekLogFormatter.escape(e, setSeparator: true, to: &out)
            }
            return
        }
        let type = column < columns.count ? columns[column].elementType : "string"
        guard begin(set: true) else { return }
        if style == .json {
            out.append(UInt8(ascii: "["))
            for (i, e) in l.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                ZeekLogFormatter.jsonScalar(e, type: type, to: &out)
            }
            out.append(UInt8(ascii: "]"))
            return
        }
        if l.isEmpty { out.append(contentsOf: "(empty)".utf8); return }
        for (i, e) in l.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            ZeekLogFormatter.escape(e, setSeparator: true, to: &out)
        }
    }

    public mutating func count<T: BinaryInteger>(_ v: T?) {
        guard let v else { unset(); return }
        if begin(set: true) { out.appendDecimal(UInt64(truncatingIfNeeded: v)) }
    }

    public mutating func fixed(_ nanos: Int64?) {
        guard let nanos else { unset(); return }
        if begin(set: true) { ZeekLogFormatter.appendFixed6(nanos, to: &out) }
    }

    public mutating func time(_ t: Timestamp) { fixed(t.nanoseconds) }

    public mutating func fixedList(_ values: [Int64]) {
        guard begin(set: true) else { return }
        if style == .json { out.append(UInt8(ascii: "[")) }
        for (i, v) in values.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            ZeekLogFormatter.appendFixed6(v, to: &out)
        }
        if style == .json { out.append(UInt8(ascii: "]")) }
    }

    public mutating func bool(_ b: Bool?) {
        guard let b else { unset(); return }
        guard begin(set: true) else { return }
        if style == .json { out.append(contentsOf: (b ? "true" : "false").utf8) } else { out.append(b ? UInt8(ascii: "T") : UInt8(ascii: "F")) }
    }

    public mutating func addr(_ a: IPAddress?) {
        guard let a else { unset(); return }
        guard begin(set: true) else { return }
        if style == .json { out.append(UInt8(ascii: "\"")) }
        ZeekLogFormatter.appendAddress(a, to: &out)
        if style == .json { out.append(UInt8(ascii: "\"")) }
    }

    public mutating func mac(_ m: MACAddress?) {
        guard let m else { unset(); return }
        guard begin(set: true) else { return }
        if style == .json { out.append(UInt8(ascii: "\"")) }
        out.reserve(17)
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &tmp) { buf in
            let n = m.writeText(into: buf)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[0..<n]))
        }
        if style == .json { out.append(UInt8(ascii: "\"")) }
    }

    /// A column the record type does not model: its value, if any, came in with the record.
    public mutating func fromExtra() {
        guard column < columns.count, !extra.isEmpty, let x = extra[columns[column].name] else { unset(); return }
        if columns[column].isContainer {
            list(x.isEmpty ? [] : x.split(separator: ",", omittingEmptySubsequences: false).map(String.init))
        } else {
            text(x)
        }
    }

    mutating func id(_ ts: Timestamp, _ uid: String, _ id: ConnectionID) {
        time(ts); text(uid); addr(id.origHost); count(id.origPort); addr(id.respHost); count(id.respPort)
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

/// A growable byte buffer written through a raw pointer: one capacity check per write and no
/// copy-on-write checks, for the row writer. Its memory belongs to a `ScratchBuffer`.
public struct ByteSink {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    private(set) var count = 0

    init(base: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    @inline(__always) mutating func reserve(_ n: Int) {
        if count + n > capacity { grow(count + n) }
    }

    private mutating func grow(_ needed: Int) {
        let size = max(needed, capacity * 2)
        let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        fresh.update(from: base, count: count)
        // The first block is the scratch buffer's (it frees it when it adopts the new one);
        // blocks this sink allocated itself are freed here.
        if grown { base.deallocate() }
        base = fresh
        capacity = size
        grown = true
    }
    private(set) var grown = false

    @inline(__always) mutating func append(_ b: UInt8) {
        reserve(1)
        base[count] = b
        count += 1
    }

    @inline(__always) mutating func append(contentsOf bytes: UnsafeRawBufferPointer) {
        guard let src = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        (base + count).update(from: src.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        count += bytes.count
    }

    mutating func append(contentsOf bytes: [UInt8]) {
        bytes.withUnsafeBytes { append(contentsOf: $0) }
    }

    /// "00" … "99": two digits per division.
    private static let pairs: StaticString = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

    /// `value` in decimal, written straight into the buffer.
    @inline(__always) mutating func appendDecimal(_ value: UInt64) {
        if value < 10 { append(UInt8(truncatingIfNeeded: value) &+ 48); return }
        appendDigits(value, width: Self.width(value))
    }

    /// How many decimal digits `v` has, by comparisons rather than divisions.
    @inline(__always) static func width(_ v: UInt64) -> Int {
        if v < 100_000 {
            return v < 100 ? (v < 10 ? 1 : 2) : (v < 1_000 ? 3 : (v < 10_000 ? 4 : 5))
        }
        if v < 10_000_000_000 {
            return v < 10_000_000 ? (v < 1_000_000 ? 6 : 7) : (v < 100_000_000 ? 8 : (v < 1_000_000_000 ? 9 : 10))
        }
        var w = 11
        var t = v / 100_000_000_000
        while t > 0 { t /= 10; w += 1 }
        return w
    }

    /// The low `width` decimal digits of `value`, zero-padded on the left.
    @inline(__always) mutating func appendDigits(_ value: UInt64, width: Int) {
        reserve(width)
        let pairs = Self.pairs.utf8Start
        var v = value
        var k = count + width
        while k - count >= 2 {
            let r = Int(v % 100)
            v /= 100
            k -= 2
            base[k] = pairs[2 * r]
            base[k + 1] = pairs[2 * r + 1]
        }
        if k > count { base[count] = UInt8(truncatingIfNeeded: v % 10) &+ 48 }
        count += width
    }

    mutating func append(contentsOf s: String.UTF8View) {
        for b in s { append(b) }
    }
}

/// The memory behind a `ByteSink`, kept across rows.
final class ScratchBuffer {
    // A formatter is used from one thread at a time (it is not Sendable): no dynamic
    // exclusivity check per row.
    @exclusivity(unchecked) private(set) var base: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) private(set) var capacity: Int

    init(capacity: Int = 4096) {
        base = .allocate(capacity: capacity)
        self.capacity = capacity
    }

    /// Takes over a sink's memory if it grew beyond this buffer.
    func adopt(_ sink: ByteSink) {
        guard sink.grown, sink.base != base else { return }
        base.deallocate()
        base = sink.base
        capacity = sink.capacity
    }

    deinit { base.deallocate() }
}
