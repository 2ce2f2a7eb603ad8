import Foundation
import Testing
import VigilCapture
import VigilCore

/// Outside alerts read from the formats SOC tools write.
@Suite struct AlertReaderTests {
    func read(_ text: String, name: String = "alerts.json") throws -> AlertReader {
        let dir = try tempDir()
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        var r = AlertReader()
        r.read(path)
        return r
    }

    @Test func suricataAlertsAreReadAndOtherEventTypesSkipped() throws {
        let r = try read("""
        {"timestamp":"2021-06-06T15:59:46.457984+0200","flow_id":1374195536821504,"event_type":"alert","src_ip":"78.36.196.213","src_port":51698,"dest_ip":"192.168.1.129","dest_port":445,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2403388,"rev":66418,"signature":"ET CINS Active Threat Intelligence Poor Reputation IP group 89","category":"Misc Attack","severity":2,"metadata":{"mitre_technique_id":["T1190"]}},"flow":{"pkts_toserver":1,"pkts_toclient":0,"bytes_toserver":60,"bytes_toclient":0}}
        {"timestamp":"2021-06-06T16:00:00.000000+0200","flow_id":1,"event_type":"flow","src_ip":"192.168.1.129","dest_ip":"8.8.8.8"}
        """)
        #expect(r.problems.isEmpty, "\(r.problems)")
        #expect(r.alerts.count == 1 && r.records == 2)
        let a = try #require(r.alerts.first)
        #expect(a.source == "suricata" && a.severity == 60 && a.unanswered)
        #expect(a.time == Timestamp(seconds: 1_622_987_986, nanoseconds: 457_984_000))  // 13:59:46 UTC
        #expect(a.sourceAddress?.description == "78.36.196.213" && a.destinationPort == 445 && a.techniques == ["T1190"])
        #expect(a.raw.contains("Poor Reputation"))
    }

    @Test func edrAndFindingFormatsMapHostsUsersAndTechniques() throws {
        let r = try read("""
        {"metadata":{"eventType":"DetectionSummaryEvent","eventCreationTime":1733479200000},"event":{"ComputerName":"WS-014","UserName":"alice","DetectName":"Credential Dumping","Severity":4,"Tactic":"Credential Access","Technique":"OS Credential Dumping","TechniqueId":"T1003","LocalIP":"10.21.0.14","DetectId":"ldt:abc:123","ProcessStartTime":1733479100}}
        {"id":"da637","title":"Suspicious PowerShell command line","severity":"High","category":"Execution","alertCreationTime":"2024-12-06T10:00:00Z","computerDnsName":"ws-015.corp.example","mitreTechniques":["T1059.001"],"evidence":[{"entityType":"User","accountName":"bob"},{"entityType":"Ip","ipAddress":"10.21.0.15"}]}
        {"id":"1795","threatInfo":{"threatName":"mimikatz.exe","classification":"Malware","confidenceLevel":"malicious","identifiedAt":"2024-12-06T10:05:00.000Z"},"agentRealtimeInfo":{"agentComputerName":"WS-016"},"agentDetectionInfo":{"agentIpV4":"10.21.0.16","agentLastLoggedInUserName":"carol"},"indicators":[{"tactics":[{"name":"Credential Access","techniques":[{"name":"T1003","link":"https://attack.mitre.org/techniques/T1003/"}]}]}]}
        {"class_uid":2004,"time":1733479500000,"severity_id":4,"finding_info":{"uid":"f-1","title":"Beacon to rare domain","attacks":[{"technique":{"uid":"T1071","name":"Application Layer Protocol"},"tactic":{"name":"Command and Control"}}]},"device":{"hostname":"ws-017","ip":"10.21.0.17"},"dst_endpoint":{"ip":"198.51.100.7","hostname":"c2.example"}}
        {"Timestamp":"2024-12-06 10:10:00.000 +00:00","Computer":"DC01.corp.example","Channel":"Sec","EventID":4769,"Level":"high","RuleTitle":"Kerberoasting","MitreTags":["T1558.003"],"Details":{"TargetUserName":"svc_sql"}}
        """)
        #expect(r.problems.isEmpty, "\(r.problems)")
        #expect(r.alerts.map(\.source) == ["crowdstrike", "defender", "sentinelone", "ocsf", "sigma"])
        let cs = r.alerts[0], md = r.alerts[1], s1 = r.alerts[2], ocsf = r.alerts[3], sigma = r.alerts[4]
        #expect(cs.hosts.contains("WS-014") && cs.hosts.contains("10.21.0.14") && cs.users == ["alice"] && cs.techniques == ["T1003"] && cs.severity == 80)
        #expect(md.severity == 85 && md.techniques == ["T1059.001"] && md.users == ["bob"] && md.hosts.contains("10.21.0.15"))
        #expect(s1.severity == 85 && s1.techniques == ["T1003"] && s1.users == ["carol"] && s1.hosts.contains("WS-016"))
        #expect(ocsf.severity == 80 && ocsf.destinationAddress?.description == "198.51.100.7" && ocsf.domains == ["c2.example"])
        #expect(sigma.techniques == ["T1558.003"] && sigma.users == ["svc_sql"] && sigma.severity == 80)
    }

    @Test func sigmaEngineArraysGiveOneAlertPerMatch() throws {
        let r = try read("""
        [{"title":"Net.exe user add","id":"r1","rule_level":"medium","tags":["attack.persistence","attack.t1136.001"],"count":2,
          "matches":[{"SystemTime":"2024-12-06T10:00:00Z","Computer":"WS-1","SubjectUserName":"eve"},{"SystemTime":"2024-12-06T10:01:00Z","Computer":"WS-2"}]}]
        """)
        #expect(r.problems.isEmpty, "\(r.problems)")
        #expect(r.alerts.count == 2 && r.alerts.allSatisfy { $0.techniques == ["T1136.001"] && $0.severity == 60 })
        #expect(r.alerts[0].hosts == ["WS-1"] && r.alerts[0].users == ["eve"])
    }

    @Test func zeekNoticeTSVReadsItsDottedConnectionFields() throws {
        let r = try read("""
        #separator \\x09
        #set_separator	,
        #empty_field	(empty)
        #unset_field	-
        #path	notice
        #fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	note	msg	src	dst	p
        #types	time	string	addr	port	addr	port	enum	enum	string	addr	addr	port
        1713681675.618306	Cabc	10.0.0.5	51000	10.0.0.9	22	tcp	SSH::Password_Guessing	10.0.0.5 appears to be guessing passwords	-	-	-
        """, name: "notice.log")
        #expect(r.problems.isEmpty, "\(r.problems)")
        let a = try #require(r.alerts.first)
        #expect(a.sourceAddress?.description == "10.0.0.5" && a.destinationAddress?.description == "10.0.0.9" && a.destinationPort == 22, "\(a)")
        #expect(a.severity == 70 && a.id.contains("Cabc"))
    }

    @Test func aMalformedLineIsReportedByLineAndTheRestIsRead() throws {
        let r = try read("""
        {"ts":1664459365.848468,"note":"Scan::Port_Scan","msg":"192.168.1.15 scanned at least 15 unique ports","src":"192.168.1.15"}
        {"ts":1664459366, "note": "Scan::Address_Scan"
        {"ts":1664459367.0,"note":"SSH::Password_Guessing","msg":"192.168.1.20 appears to be guessing passwords","src":"192.168.1.20"}
        {"event_type":"alert","src_ip":"1.2.3.4","timestamp":"not a time","alert":{"signature":"x","severity":1}}
        """, name: "notice.log")
        #expect(r.alerts.count == 2)
        #expect(r.problems.count == 2)
        #expect(r.problems.first?.line == 2 && "\(r.problems[0])".contains("notice.log"), "\(r.problems)")
        #expect(r.problems.last?.line == 4 && r.problems.last?.field == "timestamp", "\(r.problems)")
        #expect(r.alerts.map(\.severity) == [60, 70])
    }

    @Test(.enabled(if: haveDatasets, skipDatasets))
    func theSharedSuricataAndZeekNoticeFilesRead() throws {
        var r = AlertReader()
        r.read(datasets.appendingPathComponent("slips/test6-malicious.suricata.json").path)
        #expect(r.problems.isEmpty, "\(r.problems.prefix(3))")
        #expect(r.records == 5000 && r.alerts.count == 745)
        var z = AlertReader()
        z.read(datasets.appendingPathComponent("slips/test9-mixed-zeek-dir/notice.log").path)
        z.read(datasets.appendingPathComponent("rita_beacon_3day/2024-04-21/notice.06:00:00-07:00:00.log.gz").path)
        #expect(z.problems.isEmpty, "\(z.problems.prefix(3))")
        #expect(z.alerts.contains { $0.title.hasPrefix("ICMP::ICMPAddressScan") && $0.sourceAddress?.description == "192.168.1.15" })
        #expect(z.alerts.contains { $0.title.hasPrefix("CaptureLoss::Too_Much_Loss") && $0.severity < 10 })
    }
}
