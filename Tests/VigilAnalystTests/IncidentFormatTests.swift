import Foundation
import Testing
import VigilAnalyst
import VigilCore

/// The write-up formats, on an incident whose names come from an attacker.
@Suite struct IncidentFormatTests {
    static let hostile = "<script>alert(1)</script>|x=y\\[link](http://evil)"

    func incident() throws -> Incident {
        let t = Timestamp(seconds: 1_733_479_200)
        let beacon = Breach(id: "B1", model: "beacon", device: "10.0.0.5", deviceName: Self.hostile, time: t + .seconds(3600), first: t,
                            last: t + .seconds(3600), score: 97, surprisal: 30, reason: "10.0.0.5 beacons to \(Self.hostile) every 60 s",
                            endpoints: [Self.hostile], techniques: ["T1071", "T1573"])
        let exfil = Breach(id: "B2", model: "exfiltration", device: "10.0.0.5", time: t + .seconds(5400), first: t + .seconds(5400),
                           last: t + .seconds(5400), score: 90, surprisal: 20, reason: "10.0.0.5 uploaded 300 MB to \(Self.hostile)",
                           endpoints: [Self.hostile], techniques: ["T1041"])
        let result = Analyst().investigate(breaches: [beacon, exfil])
        #expect(result.incidents.count == 1)
        return try #require(result.incidents.first)
    }

    @Test func markdownCannotBeTurnedIntoHTMLOrLinksByAHostileName() throws {
        let md = IncidentMarkdown.document([try incident()], title: "t")
        #expect(!md.contains("<script>") && md.contains("&lt;script&gt;"))
        #expect(!md.contains("[link](") && md.contains("\\[link\\]"))
        // Table cells stay cells: every pipe from the data is escaped.
        for line in md.split(separator: "\n") where line.hasPrefix("| 20") {
            #expect(line.replacingOccurrences(of: "\\|", with: "").filter { $0 == "|" }.count == 7, "\(line)")
        }
    }

    @Test func htmlIsSelfContainedAndEscapesEveryHostileName() throws {
        let html = IncidentHTML.document([try incident()], title: Self.hostile)
        #expect(!html.contains("<script") && html.contains("&lt;script&gt;"))
        #expect(html.contains("Content-Security-Policy") && html.contains("default-src 'none'"))
        #expect(!html.contains("http://evil\"") && !html.contains("href=\"http"))
        #expect(html.contains("<svg") && html.components(separatedBy: "<circle").count - 1 == 2)
    }

    @Test func cefEscapesHeaderAndExtensionSeparators() throws {
        let line = IncidentExport.cef(try incident())
        let header = line.split(separator: "|", maxSplits: 7, omittingEmptySubsequences: false)
        #expect(line.hasPrefix("CEF:0|Vigil|Vigil|0.1.0|incident|"))
        #expect(header.count == 8)
        #expect(line.contains("x\\=y") && !line.contains("\n"))
        #expect(line.contains("cs2=Command and Control,Exfiltration"), "\(line)")
    }

    @Test func ocsfIncidentFindingCarriesClassSeverityAndAttacks() throws {
        let i = try incident()
        let o = IncidentExport.ocsf(i)
        #expect(o["class_uid"] as? Int == 2005 && o["type_uid"] as? Int == 200_501 && o["activity_id"] as? Int == 1)
        #expect(o["severity_id"] as? Int == 5)
        let info = (o["finding_info_list"] as? [[String: Any]])?.first
        let attacks = info?["attacks"] as? [[String: Any]] ?? []
        #expect(attacks.compactMap { ($0["technique"] as? [String: Any])?["uid"] as? String } == i.techniques)
        let line = try IncidentExport.ocsfLines([i])
        #expect((try JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any])
    }

    @Test func theNarrativeTellsTheStoryInTimeOrderWithItsTactics() throws {
        let i = try incident()
        #expect(i.title.hasPrefix("Command-and-control beaconing, then data exfiltration on 10.0.0.5"), "\(i.title)")
        #expect(i.tactics == ["Command and Control", "Exfiltration"])
        let body = i.narrative.joined(separator: "\n")
        let beacon = try #require(body.range(of: "beacons to"))
        let upload = try #require(body.range(of: "uploaded 300 MB"))
        #expect(beacon.lowerBound < upload.lowerBound)
        #expect(i.conclusion.contains("Command and Control → Exfiltration") && i.conclusion.contains("2 independent witnesses"))
    }
}
