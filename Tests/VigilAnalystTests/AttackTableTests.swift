import Testing
import VigilCore

@Suite struct AttackTableTests {
    @Test func techniqueIDsAreFoundInTagsLinksAndNames() {
        #expect(Attack.techniqueID(in: "attack.t1059.001") == "T1059.001")
        #expect(Attack.techniqueID(in: "https://attack.mitre.org/techniques/T1021/002/") == "T1021.002")
        #expect(Attack.techniqueID(in: "T1110") == "T1110")
        #expect(Attack.techniqueID(in: "attack.execution") == nil)
        #expect(Attack.techniqueID(in: "AT12345") == nil)
    }

    @Test func subTechniquesFallBackToTheirParentsTactic() {
        #expect(Attack.tactic(of: "T1021.002") == "Lateral Movement")
        #expect(Attack.tactic(of: "t1071.004") == "Command and Control")
        #expect(Attack.tactic(of: "T9999") == nil)
        #expect(Attack.order(of: "Reconnaissance") < Attack.order(of: "Exfiltration"))
    }
}
