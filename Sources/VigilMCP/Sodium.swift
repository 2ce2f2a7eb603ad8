import CSodium
import Foundation

/// SHA-256 and Ed25519 from libsodium: the pins, the lockfile signature and the audit chain.
public enum Sodium {
    private static let ready: Bool = sodium_init() >= 0

    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        _ = bytes.withUnsafeBufferPointer { crypto_hash_sha256(&out, $0.baseAddress, UInt64($0.count)) }
        return out
    }
    public static func sha256Hex(_ s: String) -> String { hex(sha256(Array(s.utf8))) }

    public struct KeyPair: Sendable {
        public let publicKey: [UInt8]
        public let secretKey: [UInt8]
    }

    public static func generateKeyPair() throws -> KeyPair {
        guard ready else { throw MCPError.crypto("libsodium could not initialise") }
        var pk = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
        var sk = [UInt8](repeating: 0, count: Int(crypto_sign_SECRETKEYBYTES))
        guard crypto_sign_keypair(&pk, &sk) == 0 else { throw MCPError.crypto("crypto_sign_keypair failed") }
        return KeyPair(publicKey: pk, secretKey: sk)
    }

    /// The public half of a 64-byte Ed25519 secret key.
    public static func publicKey(ofSecret sk: [UInt8]) throws -> [UInt8] {
        guard sk.count == Int(crypto_sign_SECRETKEYBYTES) else { throw MCPError.crypto("an Ed25519 secret key is \(crypto_sign_SECRETKEYBYTES) bytes, not \(sk.count)") }
        var pk = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
        guard crypto_sign_ed25519_sk_to_pk(&pk, sk) == 0 else { throw MCPError.crypto("not an Ed25519 secret key") }
        return pk
    }

    public static func sign(_ message: [UInt8], secretKey: [UInt8]) throws -> [UInt8] {
        guard ready else { throw MCPError.crypto("libsodium could not initialise") }
        guard secretKey.count == Int(crypto_sign_SECRETKEYBYTES) else { throw MCPError.crypto("an Ed25519 secret key is \(crypto_sign_SECRETKEYBYTES) bytes, not \(secretKey.count)") }
        var sig = [UInt8](repeating: 0, count: Int(crypto_sign_BYTES))
        var len: UInt64 = 0
        guard crypto_sign_detached(&sig, &len, message, UInt64(message.count), secretKey) == 0 else {
            throw MCPError.crypto("crypto_sign_detached failed")
        }
        return sig
    }

    public static func verify(_ signature: [UInt8], _ message: [UInt8], publicKey: [UInt8]) -> Bool {
        guard ready, signature.count == Int(crypto_sign_BYTES), publicKey.count == Int(crypto_sign_PUBLICKEYBYTES) else { return false }
        return crypto_sign_verify_detached(signature, message, UInt64(message.count), publicKey) == 0
    }

    public static func random(_ count: Int) -> [UInt8] {
        _ = ready
        var out = [UInt8](repeating: 0, count: count)
        randombytes_buf(&out, count)
        return out
    }

    public static func hex(_ b: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](); out.reserveCapacity(b.count * 2)
        for x in b { out.append(digits[Int(x >> 4)]); out.append(digits[Int(x & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
    /// Standard base64 with padding (libsodium's encoder: Foundation's went through `Data` each time).
    public static func base64(_ b: [UInt8]) -> String {
        let variant = Int32(sodium_base64_VARIANT_ORIGINAL)
        let n = sodium_base64_encoded_len(b.count, variant)
        return String(unsafeUninitializedCapacity: n) { out in
            out.withMemoryRebound(to: CChar.self) { o in _ = sodium_bin2base64(o.baseAddress!, n, b, b.count, variant) }
            return n - 1
        }
    }
    public static func fromBase64(_ s: String) -> [UInt8]? {
        Data(base64Encoded: s.trimmingCharacters(in: .whitespacesAndNewlines)).map { [UInt8]($0) }
    }
}
