import PasswordHashing

/// A password the Admin PPE dictates to a requester: 20 characters of a 31-letter alphabet without
/// look-alikes (no 0/O, 1/l/I), in groups of four — about 99 bits from the system CSPRNG. It exists
/// in clear only in the value handed back once; its description is redacted so it cannot reach a
/// log by accident.
public struct TemporaryPassword: Sendable, CustomStringConvertible {
    /// The password to show once, e.g. `k7mq-xh3d-…`.
    public let reveal: String

    static let alphabet = Array("23456789abcdefghjkmnpqrstuvwxyz")
    static let length = 20

    /// Draws a new password; rejection sampling keeps every letter equally likely.
    public init(randomBytes: RandomBytes) {
        var letters: [Character] = []
        while letters.count < Self.length {
            for byte in randomBytes(32) where letters.count < Self.length {
                // 248 = 8 × 31: bytes at or above it would favour the first letters.
                if byte < 248 { letters.append(Self.alphabet[Int(byte) % Self.alphabet.count]) }
            }
        }
        reveal = stride(from: 0, to: letters.count, by: 4).map { String(letters[$0..<min($0 + 4, letters.count)]) }.joined(separator: "-")
    }

    /// A temporary password as typed after dictation — with spaces, without the hyphens, in
    /// capitals — in the form it was issued (`k7mq-xh3d-…`), or nil when it cannot be one. The
    /// alphabet has no confusable letters, so nothing but separators and case is forgiven.
    public static func canonical(_ typed: String) -> String? {
        let letters = typed.lowercased().filter { !($0 == "-" || $0.isWhitespace) }
        guard letters.count == length, letters.allSatisfy(alphabet.contains) else { return nil }
        let array = Array(letters)
        return stride(from: 0, to: length, by: 4).map { String(array[$0..<min($0 + 4, length)]) }.joined(separator: "-")
    }

    /// Entropy in bits: log2(31) × 20 ≈ 99.
    public static var entropyBits: Double { Double(length) * log2(Double(alphabet.count)) }

    public var description: String { "TemporaryPassword(redacted)" }
}

import Foundation
