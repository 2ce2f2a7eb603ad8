import Foundation
import Testing
import VigilCore

/// Live capture through libpcap on a veth pair between two network namespaces the test
/// creates (no route out of them), with a BPF filter.
@Suite(.serialized) struct LiveCaptureTests {
    static let canUseNamespaces: Bool = {
        guard getuid() == 0, let r = try? run("ip", ["netns", "list"]), r.status == 0 else { return false }
        return true
    }()

    struct Namespaces {
        let a = "vigil-test-a-\(getpid())", b = "vigil-test-b-\(getpid())"
        func up() throws {
            down()
            for cmd in [["netns", "add", a], ["netns", "add", b],
                        ["link", "add", "vta\(getpid() % 10000)", "netns", a, "type", "veth", "peer", "name", "vtb\(getpid() % 10000)", "netns", b],
                        ["-n", a, "addr", "add", "10.213.0.1/30", "dev", "vta\(getpid() % 10000)"],
                        ["-n", b, "addr", "add", "10.213.0.2/30", "dev", "vtb\(getpid() % 10000)"],
                        ["-n", a, "link", "set", "vta\(getpid() % 10000)", "up"], ["-n", b, "link", "set", "vtb\(getpid() % 10000)", "up"],
                        ["-n", a, "link", "set", "lo", "up"], ["-n", b, "link", "set", "lo", "up"]] {
                let r = try run("ip", cmd)
                guard r.status == 0 else { throw VigilError.io("ip \(cmd.joined(separator: " ")): \(r.err)") }
            }
        }
        func down() {
            _ = try? run("ip", ["netns", "del", a])
            _ = try? run("ip", ["netns", "del", b])
        }
        var ifA: String { "vta\(getpid() % 10000)" }
    }

    @Test(.enabled(if: canUseNamespaces, "needs root and iproute2 to make network namespaces"), .timeLimit(.minutes(1)))
    func capturesFromAnInterfaceWithAFilter() throws {
        let ns = Namespaces()
        try ns.up()
        defer { ns.down() }
        let dir = try tempDir()
        let vigil = CommandLineTests().vigil
        // Capture in namespace a: only UDP to port 53 and ICMP, for 5 s.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ip", "netns", "exec", ns.a, vigil, "logs", "--interface", ns.ifA, "--filter", "udp dst port 53 or icmp",
                       "--seconds", "5", "--out", dir.path]
        let err = Pipe()
        p.standardError = err
        try p.run()
        Thread.sleep(forTimeInterval: 1.5)
        // From namespace b: DNS queries (nothing answers; the ICMP unreachables come back) and pings.
        let py = """
        import socket, struct
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(3):
            q = struct.pack('>HHHHHH', 0x1234 + i, 0x0100, 1, 0, 0, 0) + b'\\x04live\\x07example\\x00' + struct.pack('>HH', 1, 1)
            s.sendto(q, ('10.213.0.1', 53))
        s.sendto(b'not for the filter', ('10.213.0.1', 9999))
        """
        let send = try run("ip", ["netns", "exec", ns.b, "python3", "-c", py])
        #expect(send.status == 0, "\(send.err)")
        _ = try run("ip", ["netns", "exec", ns.b, "ping", "-c", "3", "-i", "0.2", "-W", "1", "10.213.0.1"])
        p.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 0, "\(stderr)")
        #expect(stderr.contains("dropped by kernel"), "live runs report capture drops: \(stderr)")
        let conn = (try? String(contentsOf: dir.appendingPathComponent("conn.log"), encoding: .utf8)) ?? ""
        let dns = (try? String(contentsOf: dir.appendingPathComponent("dns.log"), encoding: .utf8)) ?? ""
        #expect(dns.contains("live.example"), "the DNS queries were captured and decoded: \(stderr)")
        #expect(conn.contains("\ticmp\t"), "the pings were captured")
        #expect(!conn.contains("\t9999\t"), "the BPF filter kept port 9999 out")
    }
}
