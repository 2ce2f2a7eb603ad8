import VigilCore

/// Zeek's notice.log (TSV or JSON). Notices carry no severity, so it follows from the notice
/// type: scans and password guessing weigh more than certificate complaints, and Zeek's own
/// health notices (capture loss, dropped packets) are kept but weigh almost nothing.
enum ZeekNotice {
    static let weights: [(String, Double)] = [
        ("Scan::", 60), ("ICMP::", 55), ("SSH::Password_Guessing", 70), ("SSH::Login_By_Password_Guesser", 85),
        ("SSH::Interesting_Hostname_Login", 50), ("Heartbleed", 85), ("SMB::", 55), ("DNS::External_Name", 30),
        ("SSL::Invalid_Server_Cert", 20), ("SSL::Certificate_Expire", 10), ("SSL::Weak_", 15),
        ("CaptureLoss::", 3), ("PacketFilter::", 3), ("Weird::", 10), ("Software::", 10),
    ]

    static let format = AlertFormat(
        name: "zeek-notice",
        recognizes: { $0.object["note"] is String && ($0.object["_path"] as? String ?? "notice") == "notice" && $0.object["event_type"] == nil },
        decode: { r in
            guard let note = r.string("note") else { throw r.fail("note", "a notice without a note") }
            let t = try r.time("ts")
            let severity = weights.first { note.hasPrefix($0.0) || note.contains($0.0) }?.1 ?? 40
            let msg = r.string("msg") ?? ""
            let src = r.address("src", "id.orig_h")
            let dst = r.address("dst", "id.resp_h")
            return [Alert(id: "zeek-notice-\(r.string("uid") ?? r.place)-\(r.line)", source: "zeek-notice", time: t,
                          title: msg.isEmpty ? note : "\(note): \(msg)", category: note, severity: severity,
                          sourceAddress: src, sourcePort: r.port("id.orig_p"), destinationAddress: dst,
                          destinationPort: r.port("p", "id.resp_p"), transport: r.string("proto"),
                          raw: r.raw)]
        })
}
