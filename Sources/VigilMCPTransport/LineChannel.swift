import Foundation
import VigilMCP

/// Newline-framed JSON-RPC over a pair of file descriptors (MCP's stdio transport): reads on its own
/// thread and hands each line to `onLine`; writes whole lines under a lock. A line longer than
/// `maxLine` is dropped up to its newline and reported, never buffered without bound.
final class LineChannel: @unchecked Sendable {
    let name: String
    private let input: Int32
    private let output: Int32
    private let maxLine: Int
    private let writeLock = NSLock()
    private var closed = false

    init(name: String, input: Int32, output: Int32, maxLine: Int) {
        self.name = name; self.input = input; self.output = output; self.maxLine = maxLine
    }

    /// Starts reading; `onLine` gets each line (without its newline), `onTooLong` the size of each
    /// dropped line, `onEnd` is called once at end of input.
    func start(onLine: @escaping @Sendable (String) -> Void, onTooLong: @escaping @Sendable (Int) -> Void,
               onEnd: @escaping @Sendable () -> Void) {
        let fd = input, max = maxLine
        let t = Thread {
            var buffer: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            var dropping = 0
            while true {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                var start = 0
                for i in 0..<n where chunk[i] == 0x0A {
                    if dropping > 0 {
                        onTooLong(dropping + i - start); dropping = 0
                    } else {
                        buffer.append(contentsOf: chunk[start..<i])
                        var line = buffer
                        if line.last == 0x0D { line.removeLast() }
                        buffer.removeAll(keepingCapacity: true)
                        if !line.isEmpty { onLine(String(decoding: line, as: UTF8.self)) }
                    }
                    start = i + 1
                }
                if dropping > 0 { dropping += n - start }
                else {
                    buffer.append(contentsOf: chunk[start..<n])
                    if buffer.count > max { dropping = buffer.count; buffer.removeAll(keepingCapacity: false) }
                }
            }
            if !buffer.isEmpty && dropping == 0 { onLine(String(decoding: buffer, as: UTF8.self)) }
            onEnd()
        }
        t.name = "mcp-\(name)"
        t.start()
    }

    /// Writes one message and a newline; false once the other side has gone.
    @discardableResult
    func send(_ message: RPCMessage) -> Bool {
        let bytes = message.lineBytes
        writeLock.lock(); defer { writeLock.unlock() }
        if closed { return false }
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { write(output, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { closed = true; return false }
            off += n
        }
        return true
    }

    func closeOutput() {
        writeLock.lock(); defer { writeLock.unlock() }
        if !closed { closed = true; close(output) }
    }
}
