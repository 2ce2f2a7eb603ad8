import Foundation
import Testing
import VigilCapture
import VigilCore
import VigilSim
import VigilWire

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let datasets = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/datasets")
let haveDatasets = FileManager.default.fileExists(atPath: datasets.path)
let skipDatasets: Comment = "../shared/datasets is absent: the shared captures are not on this machine"

/// A fresh temporary directory for one test.
func tempDir(_ name: String = #function) throws -> URL {
    let base = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("vigil-tests-\(getpid())")
        .appendingPathComponent(name.filter { $0.isLetter || $0.isNumber } + "-" + UUID().uuidString.prefix(8))
    try? FileManager.default.removeItem(at: base)
    try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
    return base
}

/// Runs a program and returns its standard output; throws on a non-zero exit.
@discardableResult
func run(_ program: String, _ args: [String], stdin: String? = nil) throws -> (out: String, err: String, status: Int32) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [program] + args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Read before waiting so a large output cannot block the child.
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self), p.terminationStatus)
}

/// Writes a synthetic capture and returns its path.
func synthCapture(_ dir: URL, sessions: Int = 300, seed: UInt64 = 11, name: String = "synth.pcap") throws -> String {
    var c = SynthConfiguration()
    c.sessions = sessions
    c.seed = seed
    c.bulkBytes = 60_000
    let path = dir.appendingPathComponent(name).path
    let w = try PcapWriter(path: path)
    TrafficSynth(c).run { ts, f in w.write(f, at: ts) }
    w.close()
    return path
}

struct Decoded {
    var observations: [Observation] = []
    var stats = DecodeStats()
    var failures: [VigilError] = []
    var conns: [ConnRecord] { observations.compactMap { if case .conn(let c) = $0 { c } else { nil } } }
}

/// Decodes capture files the way `vigil logs` does.
func decode(_ paths: [String], reader: CaptureFiles.Reader = .auto) -> Decoded {
    var d = Decoded()
    var sources: [PacketSource] = []
    for p in paths {
        do { sources.append(try CaptureFiles.open(p, reader: reader)) } catch let e as VigilError { d.failures.append(e) } catch {}
    }
    let engine = PacketEngine()
    let merged = MergedPacketSource(sources)
    merged.forEach { buf, ts, link in
        engine.process(buf, link: link, at: ts)
        d.observations += engine.output
        engine.output.removeAll(keepingCapacity: true)
    }
    engine.finish()
    d.observations += engine.output
    d.stats = engine.stats
    d.failures += merged.failures
    return d
}

func captureFiles() -> [String] {
    guard let e = FileManager.default.enumerator(atPath: datasets.path) else { return [] }
    var out: [String] = []
    for case let rel as String in e where rel.hasSuffix(".pcap") || rel.hasSuffix(".pcapng") || rel.hasSuffix(".pcap.gz") || rel.hasSuffix(".trace") {
        out.append(datasets.appendingPathComponent(rel).path)
    }
    return out.sorted()
}
