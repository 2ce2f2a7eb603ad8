import Foundation
import VigilMCP

/// The audit chain kept in an append-only file: continues the chain already there (or refuses to
/// start when its last line is damaged). Each line is written before the call goes on, so it
/// survives the gateway crashing; it reaches the disk at the first write a second or more after
/// the last flush and when the session ends, which keeps a disk flush off every call's path.
public final class AuditFile: @unchecked Sendable {
    private var chain: AuditChain
    private let fd: Int32
    private let lock = NSLock()
    private var lastSync = Date.distantPast
    public let path: String

    public init(path: String, secretKey: [UInt8]) throws {
        self.path = path
        let last = try Self.lastEntry(path)
        chain = AuditChain(secretKey: secretKey, previous: last?.hash ?? AuditChain.genesis, sequence: last?.sequence ?? 0)
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw MCPError.audit("cannot open for appending: \(String(cString: strerror(errno)))", place: path) }
    }

    deinit { fsync(fd); close(fd) }

    /// The hash and sequence number of the log's last entry, which the chain continues from (nil
    /// for a missing or empty log); a damaged last line stops the gateway.
    static func lastEntry(_ path: String) throws -> (hash: String, sequence: Int)? {
        guard let data = FileManager.default.contents(atPath: path), let last = data.split(separator: 0x0A).last else { return nil }
        guard let v = try? JSONValue.parse(Data(last)), let h = v["hash"]?.string, let s = v["seq"]?.int else {
            throw MCPError.audit("its last line is damaged; run 'vigil mcp audit verify' and keep the file as evidence", place: path)
        }
        return (h, Int(s))
    }

    public func sync() { lock.lock(); fsync(fd); lastSync = Date(); lock.unlock() }

    public func append(_ entry: JSONValue) throws {
        lock.lock(); defer { lock.unlock() }
        var line = Array(try chain.seal(entry.object ?? [:]).utf8)
        line.append(0x0A)
        var off = 0
        while off < line.count {
            let n = line[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw MCPError.audit("write failed", place: path) }
            off += n
        }
        if Date().timeIntervalSince(lastSync) >= 1 { fsync(fd); lastSync = Date() }
    }
}

/// Keys as files: the secret key base64 in a 0600 file, the public key base64 beside it.
public enum KeyFile {
    public static func readSecret(_ path: String) throws -> [UInt8] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let key = Sodium.fromBase64(text), key.count == 64 else {
            throw MCPError.crypto("\(path): not a Vigil secret key (vigil mcp keygen writes one)")
        }
        return key
    }
    public static func readPublic(_ path: String) throws -> [UInt8] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let key = Sodium.fromBase64(text), key.count == 32 else {
            throw MCPError.crypto("\(path): not a Vigil public key (vigil mcp keygen writes one)")
        }
        return key
    }
    public static func write(_ pair: Sodium.KeyPair, prefix: String) throws {
        let secret = prefix + ".key", pub = prefix + ".pub"
        guard FileManager.default.createFile(atPath: secret, contents: Data((Sodium.base64(pair.secretKey) + "\n").utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw MCPError.crypto("cannot write \(secret)")
        }
        try Data((Sodium.base64(pair.publicKey) + "\n").utf8).write(to: URL(fileURLWithPath: pub))
    }
}
