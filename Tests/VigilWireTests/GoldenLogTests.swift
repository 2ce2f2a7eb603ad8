import Foundation
import Testing
import VigilCore
import VigilSim
@testable import VigilWire

/// A generated capture in, expected Zeek logs out — the way Zeek tests its analyzers.
/// Set VIGIL_UPDATE_GOLDEN=1 to rewrite the expected files after a deliberate change.
@Suite struct GoldenLogTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    func logs(style: ZeekLogFormatter.Style) -> [String: String] {
        var c = SynthConfiguration()
        c.seed = 7
        c.sessions = 80
        c.clients = 6
        c.servers = 12
        c.bulkBytes = 20_000
        let engine = PacketEngine()
        var all: [Observation] = []
        TrafficSynth(c).run { ts, frame in
            engine.process(frame, link: .ethernet, at: ts)
            all += engine.output
            engine.output.removeAll()
        }
        engine.finish()
        all += engine.output
        var files: [String: [UInt8]] = [:]
        func add<R: ZeekLoggable>(_ r: R) {
            let f = ZeekLogFormatter(R.self, style: style)
            if files[R.zeekPath] == nil { files[R.zeekPath] = Array(f.header(openedAt: c.start).utf8) }
            f.append(r, to: &files[R.zeekPath, default: []])
        }
        for o in all {
            switch o {
            case .conn(let r): add(r)
            case .dns(let r): add(r)
            case .http(let r): add(r)
            case .tls(let r): add(r)
            case .ssh(let r): add(r)
            case .dhcp(let r): add(r)
            }
        }
        return files.mapValues { String(decoding: $0, as: UTF8.self) }
    }

    func compare(_ style: ZeekLogFormatter.Style, ext: String) throws {
        let got = logs(style: style)
        #expect(Set(got.keys) == ["conn", "dns", "http", "ssl", "ssh", "dhcp"])
        for (path, text) in got {
            let file = Self.golden.appendingPathComponent("\(path).\(ext)")
            if ProcessInfo.processInfo.environment["VIGIL_UPDATE_GOLDEN"] == "1" {
                try text.write(to: file, atomically: true, encoding: .utf8)
                continue
            }
            let expected = try String(contentsOf: file, encoding: .utf8)
            let a = expected.split(separator: "\n"), b = text.split(separator: "\n")
            #expect(a.count == b.count, "\(path).\(ext): \(b.count) lines, expected \(a.count)")
            for (k, (x, y)) in zip(a, b).enumerated() where x != y {
                Issue.record("\(path).\(ext) line \(k + 1) differs:\n expected \(x)\n got      \(y)")
                break
            }
        }
    }

    @Test func tsvLogsMatchGolden() throws { try compare(.tsv, ext: "log") }
    @Test func jsonLogsMatchGolden() throws { try compare(.json, ext: "json") }
}
