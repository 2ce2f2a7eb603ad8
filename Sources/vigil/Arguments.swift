import Foundation
import VigilCore

/// A small flag parser: `--name value`, `--flag`, and positional arguments.
struct Arguments {
    var positional: [String] = []
    var options: [String: String] = [:]
    var flags: Set<String> = []

    init(_ args: ArraySlice<String>, flags known: Set<String>) throws {
        var it = args.makeIterator()
        while let a = it.next() {
            if a.hasPrefix("--") {
                let body = String(a.dropFirst(2))
                if let eq = body.firstIndex(of: "=") {
                    options[String(body[..<eq])] = String(body[body.index(after: eq)...])
                } else if known.contains(body) {
                    flags.insert(body)
                } else {
                    guard let v = it.next() else { throw VigilError.usage("--\(body) needs a value") }
                    options[body] = v
                }
            } else {
                positional.append(a)
            }
        }
    }

    func int(_ name: String, default d: Int) throws -> Int {
        guard let s = options[name] else { return d }
        guard let v = Int(s.replacingOccurrences(of: "_", with: "")), v >= 0 else {
            throw VigilError.usage("--\(name) takes a whole number, not '\(s)'")
        }
        return v
    }

    func allowOnly(_ names: Set<String>) throws {
        for k in options.keys where !names.contains(k) { throw VigilError.usage("unknown option --\(k)") }
    }
}
