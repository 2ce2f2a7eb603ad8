import Foundation
import VigilCapture
import VigilCore
import VigilLearn
import VigilSim
import VigilStore
import VigilWire

let usage = """
usage: vigil <command> [options]

  logs INPUT... --out DIR [--json] [--db FILE]
        Turn captures (pcap, pcapng, .gz; several are merged in time order) or a
        directory of Zeek logs into Zeek-layout conn/dns/http/ssl/ssh/dhcp logs.
  logs --interface IF [--filter BPF] [--count N] [--seconds S] --out DIR [--json]
        The same from a live interface (needs root or CAP_NET_RAW).
  analyze INPUT... [--alerts FILE,...] [--agents AUDIT,... [--agent-key PUB]] [--db FILE] [--json FILE] [--markdown FILE]
        [--html FILE] [--ocsf FILE] [--cef FILE] [--baseline DAYS] [--local CIDR,...]
        [--utc-offset H] [--top N] [--budget B] [--fresh] [--rephrase URL [--rephrase-model M] [--rephrase-timeout S]]
        Learn every device's pattern of life from captures or Zeek logs, report model
        breaches (0-100, with reasons), and chain them with outside alerts (Suricata EVE,
        Zeek notice, CrowdStrike, Defender, SentinelOne, OCSF, Sigma engines) into a few
        investigated incidents. --agents reads the MCP gateway's audit logs: each AI
        agent's tool calls are learned the same way (new tools, orders, argument shapes,
        hours, rates) and its findings join as alerts. With --db, the baseline is saved and
        the next run continues from it. --rephrase asks a local OpenAI-compatible model to
        reword each narrative, kept only if it carries exactly the write-up's facts; each
        answer may take --rephrase-timeout seconds (60), all of them five times that.
  simulate --out FILE.pcap [--devices N] [--days D] [--attacks LIST|all] [--seed S]
        Generate an office network's traffic (workdays, servers, printers, IoT, nightly
        backups, weekends, benign novelty) with optional attacks and a labels file:
        beacon, exfiltration, scan, bruteforce, lateral, dnstunnel, dga.
  synth --out FILE.pcap [--sessions N] [--seed S] [--bulk-bytes B] [--clients N]
        Generate a capture of realistic mixed traffic (DNS, TLS, HTTP, SSH, DHCP, ...).
  mcp proxy|scan|lock|keygen|token|approvals|approve|audit ...
        The gateway for AI agents that use MCP: per-agent policy, signed tool pins,
        hidden-instruction and leak checks, a signed audit log ('vigil mcp' for more).
  serve --config FILE [--check] | serve token NAME ROLE | serve example-config
        The live service: capture on interfaces (or follow Zeek logs, or replay captures),
        learn all day, re-investigate incidents, and serve the REST API (OpenAPI at
        /api/openapi.json), Prometheus metrics and the web console. Restart-safe.
  version

Exit status: 0 clean, 3 finished but some input was damaged (see the messages), 1 error.
"""

func err(_ s: String) { FileHandle.standardError.write((s + "\n").data(using: .utf8)!) }

func main() -> Int32 {
    let args = CommandLine.arguments
    guard args.count >= 2 else { err(usage); return 1 }
    do {
        switch args[1] {
        case "logs": return try LogsCommand.run(args.dropFirst(2))
        case "synth": return try SynthCommand.run(args.dropFirst(2))
        case "simulate": return try SimulateCommand.run(args.dropFirst(2))
        case "bench-learn": return try BenchLearnCommand.run(args.dropFirst(2))
        case "analyze": return try AnalyzeCommand.run(args.dropFirst(2))
        case "mcp": return try MCPCommand.run(args.dropFirst(2))
        case "serve": return try ServeCommand.run(args.dropFirst(2))
        case "version", "--version": print("vigil 0.1.0"); return 0
        case "help", "--help", "-h": print(usage); return 0
        default: err("vigil: unknown command '\(args[1])'\n\n" + usage); return 1
        }
    } catch let e as VigilError {
        err("vigil: \(e)")
        return 1
    } catch {
        err("vigil: \(error)")
        return 1
    }
}

exit(main())
