import Foundation
import VigilMCP

/// Held calls and a person's approvals, as files in one directory: a held call leaves
/// `pending/<key>.json` (who, what, with which arguments); `vigil mcp approve` writes
/// `approved/<key>`, and the gateway lets the identical call through.
public struct ApprovalDirectory: Sendable {
    public let path: String
    public init(path: String) { self.path = path }

    public func isApproved(_ key: String) -> Bool {
        FileManager.default.fileExists(atPath: "\(path)/approved/\(key)")
    }

    func hold(_ key: String, call: JSONValue) {
        try? FileManager.default.createDirectory(atPath: path + "/pending", withIntermediateDirectories: true)
        try? Data(call.canonical.utf8).write(to: URL(fileURLWithPath: "\(path)/pending/\(key).json"))
    }

    /// Calls still waiting, by key, oldest name first.
    public func waiting() -> [(key: String, call: JSONValue)] {
        pendingKeys().filter { !isApproved($0) }.map { key in
            (key, (try? JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: "\(path)/pending/\(key).json")))) ?? .null)
        }
    }

    /// Approves the one held call whose key starts with `prefix`; returns its key.
    public func approve(prefix: String) throws -> String {
        let keys = pendingKeys().filter { $0.hasPrefix(prefix) }
        guard keys.count == 1, let key = keys.first else {
            throw MCPError.policy(keys.isEmpty ? "no held call starts with \(prefix)" : "\(prefix) names \(keys.count) held calls; give more of the key", place: path)
        }
        try? FileManager.default.createDirectory(atPath: path + "/approved", withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: "\(path)/approved/\(key)", contents: Data()) else {
            throw MCPError.policy("cannot write the approval", place: path)
        }
        return key
    }

    private func pendingKeys() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path + "/pending")) ?? [])
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }
}
