import Foundation

/// What a finished program left: its exit status and everything it wrote.
public struct Ran: Sendable {
    public var status: Int32
    public var out: String
    public var err: String
}

/// Runs a program to completion; output is read concurrently so a chatty child never blocks.
/// The child gets `base` as its environment (the test process's own when nil) plus `env`.
public func runProgram(_ exe: String, _ args: [String], base: [String: String]? = nil, env: [String: String] = [:], cwd: URL? = nil) throws -> Ran {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    var e = base ?? ProcessInfo.processInfo.environment
    for (k, v) in env { e[k] = v }
    p.environment = e
    if let cwd { p.currentDirectoryURL = cwd }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out; p.standardError = err; p.standardInput = FileHandle.nullDevice
    try p.run()
    let group = DispatchGroup()
    nonisolated(unsafe) var o = Data(), r = Data()
    group.enter(); DispatchQueue.global().async { o = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.enter(); DispatchQueue.global().async { r = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.wait()
    p.waitUntilExit()
    return Ran(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: r, as: UTF8.self))
}

/// A fresh directory for one test under this test run's own folder.
public func makeTempDir(_ suite: String, _ name: String) throws -> URL {
    let base = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("\(suite)-\(getpid())")
        .appendingPathComponent(name.filter { $0.isLetter || $0.isNumber } + "-" + UUID().uuidString.prefix(8))
    try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
    return base
}
