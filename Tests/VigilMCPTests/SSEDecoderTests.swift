import Testing
@testable import VigilMCPTransport

/// The stream reader behind subscriptions and GET streams from upstream servers.
@Suite struct SSEDecoderTests {
    @Test func eventsSplitAnywhereAndEveryLineEndingAreRead() {
        let body = Array("retry: 3000\r\n\r\nid: 1\r\nevent: message\r\ndata: {\"a\":1}\r\n\r\ndata: x\rdata: y\r\rdata: {\"b\":2}\n\n".utf8)
        // One byte at a time gives what the whole body gives.
        var d = SSEDecoder(maxLine: 1024)
        var events: [String] = []
        for b in body { events += d.feed([b]) }
        events += d.finish()
        #expect(events == ["{\"a\":1}", "x\ny", "{\"b\":2}"])
        #expect(SSEDecoder.events(body, maxLine: 1024) == events)
    }

    @Test func anOverlongLineOrEventIsDroppedAndCounted() {
        var d = SSEDecoder(maxLine: 16)
        let long = "data: " + String(repeating: "z", count: 40) + "\n\ndata: ok\n\n"
        #expect(d.feed(Array(long.utf8)) == ["ok"])
        // Many short lines that add up past the limit: the event goes, the next one is read.
        let many = String(repeating: "data: abcdef\n", count: 10) + "\ndata: next\n\n"
        #expect(d.feed(Array(many.utf8)) == ["next"])
        #expect(d.droppedLines == 2)
    }
}
