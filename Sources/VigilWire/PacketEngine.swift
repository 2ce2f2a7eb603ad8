import VigilCore

/// Packets in, observations out: decoding, fragment reassembly, the connection table, and
/// application analyzers found by content. Sans-I/O and single-threaded; one per capture
/// stream. After each `process` call, drain `output`.
public final class PacketEngine {
    /// One engine serves one capture stream on one thread (the class is not Sendable), so the
    /// per-packet access needs no dynamic exclusivity check.
    @exclusivity(unchecked) private var core: FlowEngine

    public init(configuration: WireConfiguration = WireConfiguration()) {
        core = FlowEngine(configuration: configuration)
    }

    public var configuration: WireConfiguration { core.configuration }
    /// What was decoded and skipped so far.
    public var stats: DecodeStats { core.stats }
    /// The newest packet time seen.
    public var now: Timestamp { core.now }
    /// Connections currently tracked.
    public var activeFlows: Int { core.activeFlows }

    /// Observations completed by the last calls, in completion order. The caller empties it.
    public var output: [Observation] {
        get { core.output }
        _modify { yield &core.output }
        set { core.output = newValue }
    }

    /// True when observations are waiting in `output`.
    public var hasOutput: Bool { !core.output.isEmpty }

    /// Hands each observation in `output` to `body` in order and empties `output`, keeping its
    /// memory for the next packet's records.
    public func drain(_ body: (Observation) throws -> Void) rethrows {
        // Taken out of the engine first, so the body cannot reach the array it reads.
        var batch: [Observation] = []
        swap(&batch, &core.output)
        defer {
            batch.removeAll(keepingCapacity: true)
            swap(&batch, &core.output)
        }
        for i in batch.indices { try body(batch[i]) }
    }

    /// Decodes one captured packet.
    public func process(_ packet: UnsafeRawBufferPointer, link: LinkType, at ts: Timestamp) {
        core.process(packet, link: link, at: ts)
    }

    /// Moves time forward without a packet (a quiet live link): connections idle past their
    /// timeout are written out. Times at or before `now` change nothing.
    public func advance(to t: Timestamp) { core.advance(to: t) }

    /// Ends the input: every open connection and pending record is written out.
    public func finish() { core.finish() }
}
