import Testing
import VigilCore
@testable import VigilWire

@Suite struct ZeekFormatTests {
    let id = ConnectionID(origHost: IPAddress("10.0.0.1")!, origPort: 1234, respHost: IPAddress("2001:db8::1")!, respPort: 80, proto: .tcp)

    func roundTrip(_ r: HTTPRecord, style: ZeekLogFormatter.Style = .tsv) throws -> HTTPRecord {
        let f = ZeekLogFormatter(HTTPRecord.self, style: style, extraColumns: r.extra.keys.sorted())
        var out = Array(f.header(openedAt: r.ts).utf8)
        f.append(r, to: &out)
        var p = ZeekTSVParser(file: "http.log")
        var row: ZeekRow?
        for (n, line) in out.split(separator: 10, omittingEmptySubsequences: false).enumerated() {
            try Array(line).withUnsafeBytes { if case .row(let x) = try p.parse($0, number: n + 1) { row = x } }
        }
        return try HTTPRecord(zeek: try #require(row))
    }

    @Test func hostileTextSurvivesTSVEscaping() throws {
        var r = HTTPRecord(ts: Timestamp(seconds: 1_700_000_000, nanoseconds: 123_456_000), uid: "Cabc", id: id)
        r.userAgent = "tab\there\\back,comma \u{1B}[31m"
        r.uri = "-"
        r.host = ""
        r.method = "(empty)"
        let back = try roundTrip(r)
        #expect(back.userAgent == r.userAgent)
        #expect(back.uri == "-" && back.host == "" && back.method == "(empty)")
        #expect(back.ts == r.ts)
    }

    /// The eight-bytes-a-step test for bytes that need escaping agrees with the byte-by-byte
    /// rule on every length and position, including UTF-8 bytes above 0x7F beside the ones it seeks.
    @Test func wordAtATimeEscapeCheckAgreesWithTheByteRule() {
        let interesting: [UInt8] = [0x00, 0x09, 0x1F, 0x20, 0x21, 0x2C, 0x2D, 0x5B, 0x5C, 0x5D, 0x7E, 0x7F, 0x80, 0x9F, 0xC3, 0xFF, 0x61]
        var rng = SplitMix64(seed: 7)
        for _ in 0..<20_000 {
            let n = Int(rng.next() % 41)
            let bytes = (0..<n).map { _ in rng.next() % 4 == 0 ? interesting[Int(rng.next() % UInt64(interesting.count))] : UInt8(0x61 + rng.next() % 26) }
            for sep: UInt8 in [0x2C, 0x5C] {
                let expected = bytes.contains { $0 < 0x20 || $0 == 0x7F || $0 == 0x5C || $0 == sep }
                let got = bytes.withUnsafeBufferPointer { ZeekLogFormatter.needsEscape($0, sep) }
                #expect(got == expected, "\(bytes) sep \(sep)")
                if got != expected { return }
            }
        }
    }

    @Test func longValuesAreWrittenWhole() throws {
        var r = HTTPRecord(ts: Timestamp(seconds: 9), uid: "Cl", id: id)
        r.userAgent = String(repeating: "A\u{01}b", count: 40_000)   // 120 kB, grows the row buffer several times
        r.uri = "/" + String(repeating: "x", count: 5000)
        let back = try roundTrip(r)
        #expect(back.userAgent == r.userAgent && back.uri == r.uri)
        // One formatter, a long row then a short one: the grown row buffer is reused.
        var small = HTTPRecord(ts: Timestamp(seconds: 10), uid: "Cs", id: id)
        small.method = "GET"
        let f = ZeekLogFormatter(HTTPRecord.self, style: .tsv)
        var out = Array(f.header(openedAt: small.ts).utf8)
        f.append(r, to: &out)
        f.append(small, to: &out)
        f.append(r, to: &out)
        var p = ZeekTSVParser(file: "http.log")
        var rows: [HTTPRecord] = []
        for (n, line) in out.split(separator: 10).enumerated() {
            try Array(line).withUnsafeBytes { if case .row(let x) = try p.parse($0, number: n + 1) { rows.append(try HTTPRecord(zeek: x)) } }
        }
        #expect(rows.map(\.uid) == ["Cl", "Cs", "Cl"])
        #expect(rows[1].method == "GET" && rows[1].userAgent == nil && rows[2].userAgent == r.userAgent)
    }

    @Test func unknownFieldsAreKept() throws {
        var r = HTTPRecord(ts: Timestamp(seconds: 5), uid: "Cx", id: id)
        r.extra = ["_node_name": "worker-1", "label": "Malicious"]
        let back = try roundTrip(r)
        #expect(back.extra == r.extra)
    }

    /// The row writer's numbers (two digits a step, straight into the row) read as Swift prints
    /// them, at every width and around every power of ten.
    @Test func rowNumbersMatchTheTextTheyStandFor() {
        let scratch = ScratchBuffer()
        func written(_ body: (inout ByteSink) -> Void) -> String {
            var sink = ByteSink(base: scratch.base, capacity: scratch.capacity)
            body(&sink)
            scratch.adopt(sink)
            return String(decoding: UnsafeBufferPointer(start: sink.base, count: sink.count), as: UTF8.self)
        }
        var values: [UInt64] = [0, 1, 9, 10, 99, 100, UInt64.max, UInt64.max - 1]
        var p: UInt64 = 10
        while p < UInt64.max / 10 { values += [p - 1, p, p + 1]; p *= 10 }
        var rng = SplitMix64(seed: 3)
        for _ in 0..<2_000 { values.append(rng.next() >> (rng.next() % 64)) }
        for v in values {
            #expect(written { $0.appendDecimal(v) } == String(v))
            let nanos = Int64(truncatingIfNeeded: v >> 1) * (v & 1 == 0 ? 1 : -1)
            if nanos > Int64.min / 2 && nanos < Int64.max / 2 {
                #expect(written { ZeekLogFormatter.appendFixed6(nanos, to: &$0) } == ZeekNumber.fixed6(nanos))
            }
        }
    }

    @Test func tsvWritesZeekFixedPointTimes() {
        #expect(ZeekNumber.fixed6(1_713_567_603_318_246_000) == "1713567603.318246")
        #expect(ZeekNumber.fixed6(70_000) == "0.000070")
        #expect(ZeekNumber.timestamp("1713567603.318246")?.nanoseconds == 1_713_567_603_318_246_000)
        #expect(ZeekNumber.timestamp("0.012166976928710938")?.nanoseconds == 12_167_000, "rounded to the microsecond")
    }

    @Test func jsonEscapesControlCharacters() {
        var r = HTTPRecord(ts: Timestamp(seconds: 5), uid: "Cx", id: id)
        r.userAgent = "a\"b\n<script>\u{01}"
        let f = ZeekLogFormatter(HTTPRecord.self, style: .json)
        var out: [UInt8] = []
        f.append(r, to: &out)
        let s = String(decoding: out, as: UTF8.self)
        #expect(s.contains(#""user_agent":"a\"b\n<script>\u0001""#))
        #expect(s.hasPrefix(#"{"ts":5.000000,"uid":"Cx""#))
        #expect(!s.contains("\"referrer\""), "unset fields are left out of JSON")
    }

    @Test func badRowsNameFileLineAndField() throws {
        var p = ZeekTSVParser(file: "conn.log")
        for (n, l) in ["#separator \\x09", "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto", "#types\ttime\tstring\taddr\tport\taddr\tport\tenum"].enumerated() {
            _ = try Array(l.utf8).withUnsafeBytes { try p.parse($0, number: n + 1) }
        }
        let good = try Array("1.5\tC1\t10.0.0.1\t5\t10.0.0.2\t80\ttcp".utf8).withUnsafeBytes { try p.parse($0, number: 4) }
        guard case .row(let row) = good else { Issue.record("no row"); return }
        #expect(try ConnRecord(zeek: row).id.respPort == 80)
        let badAddr = try Array("1.5\tC1\t10.0.0.999\t5\t10.0.0.2\t80\ttcp".utf8).withUnsafeBytes { try p.parse($0, number: 5) }
        guard case .row(let row2) = badAddr else { Issue.record("no row"); return }
        do {
            _ = try ConnRecord(zeek: row2)
            Issue.record("a bad address was accepted")
        } catch let e as VigilError {
            #expect(e.file == "conn.log" && e.line == 5 && e.field == "id.orig_h")
        }
        #expect(throws: VigilError.self) {
            _ = try Array("1.5\tC1".utf8).withUnsafeBytes { try p.parse($0, number: 6) }
        }
    }

    @Test func addressesParseAndPrintLikeZeek() {
        for s in ["10.1.2.3", "::", "::1", "fe80::1cf4:44d2:904a:14f7", "2001:db8::1:0:0:1", "ff02::1:3", "::ffff:1.2.3.4"] {
            #expect(IPAddress(s) != nil, "\(s)")
        }
        #expect(IPAddress("2001:0db8:0000:0000:0001:0000:0000:0001")?.description == "2001:db8::1:0:0:1")
        #expect(IPAddress("::ffff:1.2.3.4")?.description == "1.2.3.4")
        // RFC 5952 canonical text: longest zero run compressed (the first when tied), no single-group "::".
        for (text, canonical) in [("::", "::"), ("::1", "::1"), ("1::", "1::"), ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
                                  ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"), ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
                                  ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4"), ("FE80::1CF4:44D2:904A:14F7", "fe80::1cf4:44d2:904a:14f7"),
                                  ("255.255.255.255", "255.255.255.255"), ("0.0.0.0", "0.0.0.0")] {
            #expect(IPAddress(text)?.description == canonical, "\(text)")
        }
        for bad in ["1.2.3", "1.2.3.256", ":::", "1::2::3", "g::1", "", "12345::"] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
    }
}
