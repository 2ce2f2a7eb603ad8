import Testing
import VigilAnalyst

@Suite struct NarrativeCheckTests {
    let original = ["Between 2024-12-06T10:10:00Z and 2024-12-06T10:29:45Z (20 min), one device, 10.21.0.18, produced 1 signal(s), involving exfil-dns.example.",
                    "10.21.0.18 asked 1025 distinct names under exfil-dns.example (T1071.004)."]

    @Test func aRewordingWithTheSameFactsIsKept() {
        let c = "From 2024-12-06T10:10:00Z to 2024-12-06T10:29:45Z (20 min) the device 10.21.0.18 raised 1 signal about exfil-dns.example.\n\nIt asked for 1025 distinct names under exfil-dns.example, T1071.004."
        #expect(NarrativeCheck.check(original: original, candidate: c) == .accepted([
            "From 2024-12-06T10:10:00Z to 2024-12-06T10:29:45Z (20 min) the device 10.21.0.18 raised 1 signal about exfil-dns.example.",
            "It asked for 1025 distinct names under exfil-dns.example, T1071.004."]))
    }

    @Test(arguments: [
        ("the device 10.21.0.19 asked 1025 names under exfil-dns.example at 2024-12-06T10:10:00Z until 2024-12-06T10:29:45Z (20 min), 1 signal, T1071.004", "adds 10.21.0.19"),
        ("10.21.0.18 asked 1025 names under exfil-dns.example and evil.example at 2024-12-06T10:10:00Z until 2024-12-06T10:29:45Z (20 min), 1 signal, T1071.004", "adds evil.example"),
        ("10.21.0.18 asked many names under exfil-dns.example at 2024-12-06T10:10:00Z until 2024-12-06T10:29:45Z (20 min), 1 signal, T1071.004", "drops 1025"),
        ("10.21.0.18 asked 1025 names under exfil-dns.example at 2024-12-06T10:10:00Z until 2024-12-06T10:29:45Z (20 min), 1 signal", "drops t1071.004"),
    ])
    func aRewordingThatChangesAFactIsRefused(candidate: String, why: String) {
        guard case .refused(let reason) = NarrativeCheck.check(original: original, candidate: candidate) else {
            Issue.record("accepted: \(candidate)"); return
        }
        #expect(reason.contains(why), "\(reason)")
    }

    @Test func emptyOrRunawayAnswersAreRefused() {
        #expect(NarrativeCheck.check(original: original, candidate: "  ") == .refused("the model answered nothing"))
        let long = original.joined(separator: " ") + String(repeating: " and so on", count: 200)
        guard case .refused = NarrativeCheck.check(original: original, candidate: long) else { Issue.record("a runaway answer was kept"); return }
    }
}
