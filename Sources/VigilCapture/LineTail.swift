import Foundation

/// The lines appended to a file since the last look, as `tail -F` sees them: by inode and
/// offset, starting again from the top when the file is replaced (rotation) or shrinks
/// (truncation). A line still being written waits for its newline.
public struct LineTail {
    public let path: String
    private var inode: UInt64?
    private var offset: UInt64 = 0
    private var partial: [UInt8] = []
    /// Lines handed out since the file (re)started: the next line's number is this plus one.
    public private(set) var lineNumber = 0

    public init(path: String) { self.path = path }

    /// Hands each complete new line (without its newline or carriage return) and its 1-based
    /// number to `line`, reading at most `maxBytes`. When the file was replaced or truncated,
    /// `restarted` runs first, so the caller resets what it derived from the file's start.
    public mutating func poll(maxBytes: Int = 8 << 20, restarted: () -> Void = {}, _ line: (UnsafeRawBufferPointer, Int) -> Void) {
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        let ino = UInt64(st.st_ino), size = UInt64(st.st_size)
        if let known = inode, known != ino || size < offset {
            offset = 0; partial = []; lineNumber = 0
            restarted()
        }
        inode = ino
        guard size > offset, let h = FileHandle(forReadingAtPath: path) else { return }
        defer { try? h.close() }
        do { try h.seek(toOffset: offset) } catch { return }
        guard let data = try? h.read(upToCount: Int(min(size - offset, UInt64(maxBytes)))), !data.isEmpty else { return }
        offset += UInt64(data.count)
        var bytes = partial
        bytes.append(contentsOf: data)
        var start = 0
        while let nl = bytes[start...].firstIndex(of: 10) {
            var end = nl
            if end > start, bytes[end - 1] == 13 { end -= 1 }
            lineNumber += 1
            if end > start { bytes[start..<end].withUnsafeBytes { line($0, lineNumber) } }
            start = nl + 1
        }
        // A "line" over 1 MiB is no log line: dropped rather than held.
        partial = bytes.count - start <= 1 << 20 ? Array(bytes[start...]) : []
    }
}
