import Foundation
import Testing
import VigilCapture
@testable import VigilLearn
import VigilCore
import VigilSim
import VigilWire

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let datasets = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/datasets")
let haveDatasets = FileManager.default.fileExists(atPath: datasets.path)

@Suite struct SimulatorTests {
    @Test func anInjectedCaptureLandsOnBaselineDevicesWithValidHeaders() throws {
        var b = PacketBuilder()
        let a = PacketBuilder.Endpoint(mac: 1, ip: IPAddress("192.168.1.5")!, port: 50000)
        let c = PacketBuilder.Endpoint(mac: 2, ip: IPAddress("192.168.1.9")!, port: 445)
        let outside = PacketBuilder.Endpoint(mac: 3, ip: IPAddress("203.0.113.7")!, port: 443)
        var inj = CaptureInjection(targets: [IPAddress("10.21.0.10")!, IPAddress("10.21.0.11")!], shift: .seconds(3600))
        var frames: [[UInt8]] = []
        for (s, d) in [(a, c), (c, a), (a, outside)] {
            b.bytes.removeAll()
            [UInt8]().withUnsafeBytes { b.tcp(s, d, seq: 1, ack: 0, flags: 0x02, payload: $0) }
            let r = b.bytes.withUnsafeBytes { inj.rewrite($0, linkType: 1, at: Timestamp(seconds: 100)) }
            #expect(r?.0 == Timestamp(seconds: 3700))
            frames.append(r?.1 ?? [])
        }
        var p = DecodedPacket()
        let want = [("10.21.0.10", "10.21.0.11"), ("10.21.0.11", "10.21.0.10"), ("10.21.0.10", "203.0.113.7")]
        for (f, (s, d)) in zip(frames, want) {
            _ = f.withUnsafeBytes { PacketDecoder.decode($0, link: .ethernet, into: &p) }
            #expect(p.src.description == s && p.dst.description == d)
            // The IPv4 header checksum of the rewritten frame is valid.
            var sum: UInt32 = 0
            for i in stride(from: 14, to: 34, by: 2) { sum &+= UInt32(f[i]) << 8 | UInt32(f[i + 1]) }
            while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
            #expect(sum == 0xFFFF)
        }
        #expect(inj.mapping.count == 2)
    }

    @Test func largeOfficesGetDistinctAddresses() {
        var c = OfficeConfiguration()
        c.devices = 1200
        let ws = OfficeSimulator(c).workstationAddresses
        #expect(ws.count >= 900 && Set(ws).count == ws.count)
    }

    @Test(.enabled(if: haveDatasets, "../shared/datasets is absent: the shared captures are not on this machine"))
    func ritasOwnBeaconIsTheTopBeaconBreach() throws {
        var c = LearnConfiguration()
        c.baseline = .seconds(0)
        let learner = Learner(configuration: c)
        let source = ZeekLogSource(root: datasets.appendingPathComponent("rita_beacon_3day").path)
        try source.forEach { learner.observe($0) }
        learner.finish()
        let beacons = latest(learner.drainBreaches()).filter { $0.model == "beacon" }
            .sorted { $0.score != $1.score ? $0.score > $1.score : $0.surprisal > $1.surprisal }
        let top = try #require(beacons.first)
        #expect(top.reason.contains("73.54.23.243") && top.device == "64.225.56.201", "\(top.reason)")
        #expect(top.facts["periodSeconds"].map { $0 > 200 && $0 < 350 } == true)
    }
}
