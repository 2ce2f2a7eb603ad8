import VigilCore

/// Moves a foreign capture into a simulated network: its private IPv4 addresses are rewritten
/// onto the simulation's own devices (in order of first appearance) and its time is shifted,
/// so a short attack capture lands inside a baseline the learner has watched. Frames of other
/// link types (raw IP, Linux cooked) become Ethernet frames; IP header checksums are fixed,
/// TCP/UDP checksums are not (Vigil, like `zeek -C`, does not verify them).
public struct CaptureInjection {
    public private(set) var mapping: [(from: IPAddress, to: IPAddress)] = []
    public private(set) var skipped = 0
    let targets: [IPAddress]
    let shift: Duration
    private var index: [IPAddress: IPAddress] = [:]

    public init(targets: [IPAddress], shift: Duration) {
        self.targets = targets
        self.shift = shift
    }

    static func isPrivate(_ a: UInt32) -> Bool {
        a >> 24 == 10 || a >> 20 == 0xAC1 || a >> 16 == 0xC0A8
    }

    mutating func map(_ a: UInt32) -> UInt32 {
        guard Self.isPrivate(a), !targets.isEmpty else { return a }
        let ip = IPAddress(v4: a)
        if let m = index[ip] { return m.v4 }
        let to = targets[mapping.count % targets.count]
        index[ip] = to
        mapping.append((ip, to))
        return to.v4
    }

    /// The rewritten Ethernet frame and its new time, or nil for frames it cannot place.
    public mutating func rewrite(_ frame: UnsafeRawBufferPointer, linkType: UInt32, at t: Timestamp) -> (Timestamp, [UInt8])? {
        var out: [UInt8]
        switch linkType {
        case 1:
            out = Array(frame)
        case 101, 12, 14:
            out = [0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00] + Array(frame)
        case 113:
            guard frame.count > 16 else { skipped += 1; return nil }
            out = [0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, frame[14], frame[15]] + Array(frame[16...])
        case 276:
            guard frame.count > 20 else { skipped += 1; return nil }
            out = [0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, frame[0], frame[1]] + Array(frame[20...])
        default:
            skipped += 1
            return nil
        }
        var off = 12
        while off + 4 <= out.count, out[off] == 0x81 || out[off] == 0x88, out[off + 1] == 0x00 || out[off + 1] == 0xA8 { off += 4 }
        guard off + 2 <= out.count else { skipped += 1; return nil }
        let type = UInt16(out[off]) << 8 | UInt16(out[off + 1])
        let ip = off + 2
        if type == 0x0800, ip + 20 <= out.count, out[ip] >> 4 == 4 {
            func read(_ i: Int) -> UInt32 { UInt32(out[i]) << 24 | UInt32(out[i + 1]) << 16 | UInt32(out[i + 2]) << 8 | UInt32(out[i + 3]) }
            func write(_ i: Int, _ v: UInt32) { out[i] = UInt8(v >> 24); out[i + 1] = UInt8(v >> 16 & 0xFF); out[i + 2] = UInt8(v >> 8 & 0xFF); out[i + 3] = UInt8(v & 0xFF) }
            write(ip + 12, map(read(ip + 12)))
            write(ip + 16, map(read(ip + 16)))
            let ihl = Int(out[ip] & 0x0F) * 4
            if ihl >= 20, ip + ihl <= out.count {
                out[ip + 10] = 0; out[ip + 11] = 0
                var sum: UInt32 = 0
                for i in stride(from: ip, to: ip + ihl, by: 2) { sum &+= UInt32(out[i]) << 8 | UInt32(out[i + 1]) }
                while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
                let c = ~UInt16(sum)
                out[ip + 10] = UInt8(c >> 8); out[ip + 11] = UInt8(c & 0xFF)
            }
        } else if type == 0x0806, ip + 28 <= out.count {
            for at in [ip + 14, ip + 24] {
                let v = UInt32(out[at]) << 24 | UInt32(out[at + 1]) << 16 | UInt32(out[at + 2]) << 8 | UInt32(out[at + 3])
                let m = map(v)
                out[at] = UInt8(m >> 24); out[at + 1] = UInt8(m >> 16 & 0xFF); out[at + 2] = UInt8(m >> 8 & 0xFF); out[at + 3] = UInt8(m & 0xFF)
            }
        }
        return (t + shift, out)
    }
}
