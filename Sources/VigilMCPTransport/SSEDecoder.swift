/// Reads a `text/event-stream` body as it arrives: bytes in, the `data:` payload of each
/// complete event out (multi-line data joined with newlines). Lines end in \n, \r\n or \r, so it
/// splits on bytes ("\r\n" is one Character in Swift). A line, or an event, over `maxLine` bytes
/// is dropped and counted, so a hostile stream cannot grow the gateway's memory.
struct SSEDecoder {
    private var line: [UInt8] = []
    private var data: [String] = []
    private var eventBytes = 0
    private var eventTooLong = false
    private var lastWasCR = false
    private var overlong = false
    let maxLine: Int
    private(set) var droppedLines = 0

    init(maxLine: Int) { self.maxLine = maxLine }

    /// The events completed by `bytes`.
    mutating func feed<S: Sequence>(_ bytes: S) -> [String] where S.Element == UInt8 {
        var events: [String] = []
        for b in bytes {
            if b == 0x0A && lastWasCR { lastWasCR = false; continue }
            lastWasCR = b == 0x0D
            if b == 0x0A || b == 0x0D {
                endLine(&events)
            } else if line.count < maxLine {
                line.append(b)
            } else {
                overlong = true
            }
        }
        return events
    }

    /// The stream ended: an event without its closing blank line still counts.
    mutating func finish() -> [String] {
        var events: [String] = []
        if !line.isEmpty { endLine(&events) }
        if !data.isEmpty { events.append(data.joined(separator: "\n")); data = [] }
        return events
    }

    private mutating func endLine(_ events: inout [String]) {
        defer { line.removeAll(keepingCapacity: true); overlong = false }
        if overlong { droppedLines += 1; return }
        if line.isEmpty {
            if !data.isEmpty { events.append(data.joined(separator: "\n")) }
            if eventTooLong { droppedLines += 1 }
            data = []; eventBytes = 0; eventTooLong = false
        } else if line.starts(with: [0x64, 0x61, 0x74, 0x61, 0x3A]) {   // "data:"
            var d = line.dropFirst(5)
            if d.first == 0x20 { d = d.dropFirst() }
            eventBytes += d.count + 1
            if eventBytes > maxLine { eventTooLong = true; data = []; return }
            if !eventTooLong { data.append(String(decoding: d, as: UTF8.self)) }
        }
    }

    /// Every event of a whole body.
    static func events(_ body: [UInt8], maxLine: Int) -> [String] {
        var d = SSEDecoder(maxLine: maxLine)
        return d.feed(body) + d.finish()
    }
}
