import Foundation
import Testing
import VigilHTTP

@Suite struct EventHubTests {
    func text(_ s: EventSubscription) -> String {
        var out = ""
        while let b = s.read(max: 1 << 16), !b.isEmpty {
            out += String(decoding: b, as: UTF8.self)
            if out.hasSuffix("keep-alive\n\n") { break }
        }
        return out
    }

    @Test func eventsAreFramedAsServerSentEventsWithOneDataLinePerLine() {
        let hub = EventHub(queueLimit: 10, keepAliveSeconds: 0.05)
        let s = hub.subscribe()
        hub.publish(event: "incident\nforged: x", data: "{\"a\":1}\n{\"b\":2}")
        let t = text(s)
        #expect(t.hasPrefix("retry: 3000\n\n"))
        #expect(t.contains("event: incident forged: x\ndata: {\"a\":1}\ndata: {\"b\":2}\n\n"), "a newline in a name cannot start a field")
        s.close()
        #expect(hub.listenerCount == 0)
        #expect(s.read(max: 100) == nil)
    }

    /// A listener that stops reading keeps only the newest events and is told what it lost.
    @Test func aSlowListenerLosesItsOldestEventsNotTheServersMemory() {
        let hub = EventHub(queueLimit: 5, keepAliveSeconds: 0.05)
        let s = hub.subscribe()
        for i in 0..<1000 { hub.publish(event: "breach", data: "{\"n\":\(i)}") }
        let t = text(s)
        #expect(t.contains("events dropped (this listener read too slowly)"))
        #expect(t.contains("{\"n\":999}"))
        #expect(!t.contains("{\"n\":10}"))
        #expect(t.components(separatedBy: "event: breach").count - 1 <= 5)
    }
}
