import Foundation
import VigilCapture
import VigilCore
import VigilWire

/// Reads capture files and Zeek log directories into one stream of observations.
/// Where a long read stands, for a progress bar (shared with the caller while `read` runs).
final class ReadProgress {
    var merged: MergedPacketSource?
    var zeekFiles = 0, zeekDone = 0
    var fraction: Double? {
        if let p = merged?.progress, p.total > 0 { return Double(p.done) / Double(p.total) }
        return nil
    }
}

struct ObservationInputs {
    var problems: [VigilError] = []
    var stats = DecodeStats()
    var zeekRows = 0
    var first: Timestamp?
    var last: Timestamp?

    static func isZeekInput(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue { return true }
        return ZeekLogSourceKind.isLogName((path as NSString).lastPathComponent)
    }

    /// Zeek inputs first (each streamed in time order), then all captures merged in time order.
    /// `extra` lets the caller add sources (a live interface).
    mutating func read(_ paths: [String], reader: CaptureFiles.Reader, wire: WireConfiguration,
                       extra: [PacketSource] = [], progress: ReadProgress? = nil, emit: (Observation) -> Void) {
        func note(_ o: Observation) {
            if first == nil { first = o.ts }
            last = o.ts
            emit(o)
        }
        var captures: [PacketSource] = []
        for path in paths {
            if Self.isZeekInput(path) {
                let source = ZeekLogSource(root: path)
                do { try source.forEach { note($0) } } catch let e as VigilError { problems.append(e) } catch {
                    problems.append(.io("\(error)", file: path))
                }
                zeekRows += source.rows
                problems += source.errors
                if source.errorCount > source.errors.count {
                    err("vigil: \(source.errorCount - source.errors.count) more unreadable rows in \(path) not shown")
                }
            } else {
                do { captures.append(try CaptureFiles.open(path, reader: reader)) } catch let e as VigilError { problems.append(e) } catch {
                    problems.append(.io("\(error)", file: path))
                }
            }
        }
        captures += extra
        guard !captures.isEmpty else { return }
        let engine = PacketEngine(configuration: wire)
        let merged = MergedPacketSource(captures)
        progress?.merged = merged
        merged.forEach { buf, ts, link in
            engine.process(buf, link: link, at: ts)
            if engine.hasOutput { engine.drain(note) }
        }
        engine.finish()
        engine.drain(note)
        stats = engine.stats
        problems += merged.failures
    }
}
