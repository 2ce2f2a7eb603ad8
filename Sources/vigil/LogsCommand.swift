import Foundation
import VigilCapture
import VigilCore
import VigilStore
import VigilWire

enum LogsCommand {
    static func run(_ a: ArraySlice<String>) throws -> Int32 {
        let args = try Arguments(a, flags: ["json", "quiet"])
        try args.allowOnly(["out", "db", "interface", "filter", "count", "seconds", "max-flows", "reader"])
        guard let reader = CaptureFiles.Reader(rawValue: args.options["reader"] ?? "auto") else {
            throw VigilError.usage("--reader is auto or libpcap")
        }
        guard let out = args.options["out"] else { throw VigilError.usage("logs needs --out DIR") }
        let interface = args.options["interface"]
        if args.positional.isEmpty && interface == nil { throw VigilError.usage("logs needs capture files, a Zeek log directory, or --interface") }
        let writer = try ZeekLogWriter(directory: out, style: args.flags.contains("json") ? .json : .tsv)
        let store = try args.options["db"].map { try SQLiteStore(path: $0) }
        var sinks: [any ObservationSink] = [writer]
        if let store { sinks.append(store) }
        var configuration = WireConfiguration()
        configuration.maxFlows = try args.int("max-flows", default: configuration.maxFlows)
        let started = DispatchTime.now().uptimeNanoseconds
        var sinkError: Error?
        var live: LivePcapSource?
        var interrupt: DispatchSourceSignal?   // lives as long as this run
        defer { interrupt?.cancel() }
        if let interface {
            let count = try args.options["count"].map { _ in UInt64(try args.int("count", default: 0)) }
            let seconds = try args.options["seconds"].map { _ in Int64(try args.int("seconds", default: 0)) }
            let l = try LivePcapSource(interface: interface, filter: args.options["filter"], limit: count, seconds: seconds)
            live = l
            let sig = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
            signal(SIGINT, SIG_IGN)
            sig.setEventHandler { l.stop() }
            sig.resume()
            interrupt = sig
        }
        var inputs = ObservationInputs()
        inputs.read(args.positional, reader: reader, wire: configuration, extra: live.map { [$0] } ?? []) { o in
            guard sinkError == nil else { return }
            do { for i in sinks.indices { try sinks[i].consume(o) } } catch { sinkError = error }
        }
        let problems = inputs.problems, stats = inputs.stats, zeekRows = inputs.zeekRows
        let first = inputs.first, last = inputs.last
        if let sinkError { throw sinkError }
        try writer.finish()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        if let store {
            let statsJSON = String(decoding: (try? JSONEncoder().encode(stats)) ?? Data(), as: UTF8.self)
            try store.recordRun(command: "logs", inputs: args.positional, statsJSON: statsJSON, first: first, last: last)
            try store.commit()
        }
        if !args.flags.contains("quiet") {
            report(stats: stats, zeekRows: zeekRows, written: writer.written, seconds: seconds, out: out)
            if let live {
                let (recv, drop, ifdrop) = live.drops()
                err("capture: \(recv) received by filter, \(drop) dropped by kernel, \(ifdrop) dropped by interface")
            }
        }
        for p in problems { err("vigil: \(p)") }
        return problems.isEmpty ? 0 : 3
    }

    static func report(stats s: DecodeStats, zeekRows: Int, written: [ObservationKind: Int], seconds: Double, out: String) {
        var lines: [String] = []
        if s.packets > 0 {
            let pps = seconds > 0 ? Double(s.packets) / seconds : 0
            lines.append("packets: \(s.packets) (\(s.bytes) bytes) in \(String(format: "%.2f", seconds)) s, \(Int(pps)) packets/s")
            lines.append("decoded: \(s.decoded) (ipv4 \(s.ipv4), ipv6 \(s.ipv6), arp \(s.arp); tcp \(s.tcp), udp \(s.udp), icmp \(s.icmp), other \(s.otherIP); fragments \(s.fragments), reassembled \(s.reassembled))")
            lines.append("skipped: \(s.skipped) (truncated \(s.skippedTruncated), malformed \(s.skippedMalformed), non-IP \(s.skippedNonIP), unknown link \(s.skippedUnknownLink))")
            lines.append("flows: \(s.flowsCreated) created, \(s.flowsEvicted) evicted under table pressure; app parse errors \(s.appParseErrors)")
            if s.flowsEvicted > 0 { lines.append("warning: the flow table was full; \(s.flowsEvicted) connections were ended early (raise --max-flows)") }
        }
        if zeekRows > 0 { lines.append("zeek rows read: \(zeekRows)") }
        let w = ObservationKind.allCases.compactMap { k in written[k].map { "\(k.rawValue) \($0)" } }.joined(separator: ", ")
        lines.append("wrote to \(out): \(w.isEmpty ? "nothing" : w)")
        err(lines.joined(separator: "\n"))
    }
}

