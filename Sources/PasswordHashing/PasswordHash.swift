/// A stored password: an Argon2 PHC string such as
/// `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`. Validated on construction, so a value of this
/// type always names a variant and parameters. Its description is redacted to keep it out of logs.
public struct PasswordHash: Sendable, Hashable, CustomStringConvertible {
    public enum Variant: String, Sendable {
        case argon2i, argon2d, argon2id
    }

    /// The PHC string as stored.
    public let encoded: String
    public let variant: Variant
    /// 0x13 (19) for current Argon2; 0x10 for strings without a `v=` field.
    public let version: Int
    public let memoryKiB: UInt32
    public let iterations: UInt32
    public let parallelism: UInt32
    public let saltLength: Int
    public let hashLength: Int

    public init(encoded: String) throws(PasswordHashingError) {
        // $<variant>[$v=<n>]$m=<m>,t=<t>,p=<p>$<salt>$<hash>
        var parts = encoded.split(separator: "$", omittingEmptySubsequences: false)[...]
        guard parts.popFirst() == "", let variantText = parts.popFirst(),
            let variant = Variant(rawValue: String(variantText))
        else { throw .malformedHash }
        var version = 0x10
        if let field = parts.first, field.hasPrefix("v=") {
            guard let number = Int(field.dropFirst(2)) else { throw .malformedHash }
            version = number
            parts.removeFirst()
        }
        guard parts.count == 3 else { throw .malformedHash }
        var costs: [Substring: UInt32] = [:]
        for pair in parts[parts.startIndex].split(separator: ",") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, let value = UInt32(kv[1]) else { throw .malformedHash }
            costs[kv[0]] = value
        }
        guard let m = costs["m"], let t = costs["t"], let p = costs["p"], costs.count == 3,
            let salt = Base64Unpadded.decodedLength(parts[parts.startIndex + 1]),
            let hash = Base64Unpadded.decodedLength(parts[parts.startIndex + 2]),
            version == 0x10 || version == 0x13
        else { throw .malformedHash }
        self.encoded = encoded
        self.variant = variant
        self.version = version
        self.memoryKiB = m
        self.iterations = t
        self.parallelism = p
        self.saltLength = salt
        self.hashLength = hash
    }

    /// True when this hash is weaker than `parameters` in any respect and should be replaced at the
    /// next successful login.
    public func isWeaker(than parameters: Argon2Parameters) -> Bool {
        variant != .argon2id || version != 0x13
            || memoryKiB < parameters.memoryKiB || iterations < parameters.iterations
            || parallelism < parameters.parallelism
            || saltLength < parameters.saltLength || hashLength < parameters.hashLength
    }

    public var description: String { "PasswordHash(\(variant.rawValue), m=\(memoryKiB),t=\(iterations),p=\(parallelism))" }
}

/// The PHC format's base64: standard alphabet, no padding.
enum Base64Unpadded {
    private static let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Byte length of the decoded text, or nil if it is not unpadded base64.
    static func decodedLength(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy(alphabet.contains), text.utf8.count % 4 != 1 else { return nil }
        return text.utf8.count * 3 / 4
    }
}
