import Foundation

/// Text a person typed (a name, a reason, a search): NFC-normalized, trimmed, bounded, and free of
/// NUL, control and bidirectional-override characters — which PostgreSQL refuses (NUL), a
/// terminal or a log line interprets (controls), or a reader is fooled by (bidi overrides).
public struct FreeText: Sendable, Hashable, CustomStringConvertible {
    public let value: String

    /// `multiline` admits line feeds and tabs (a note), nothing else below U+0020.
    public init(_ text: String, field: String, maxLength: Int = 200, multiline: Bool = false) throws(InputError) {
        let normalized = text.precomposedStringWithCanonicalMapping.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !normalized.isEmpty else { throw InputError(field: field, reason: "is required") }
        guard normalized.count <= maxLength else { throw InputError(field: field, reason: "may be at most \(maxLength) characters") }
        for scalar in normalized.unicodeScalars where Self.refuses(scalar, multiline: multiline) {
            throw InputError(field: field, reason: "may not contain control characters (U+\(String(scalar.value, radix: 16, uppercase: true)))")
        }
        value = normalized
    }

    /// The same for an optional field: nil or blank is nil.
    public static func optional(_ text: String?, field: String, maxLength: Int = 200, multiline: Bool = false) throws(InputError) -> FreeText? {
        guard let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
        return try FreeText(text, field: field, maxLength: maxLength, multiline: multiline)
    }

    /// Whether free text refuses this character (controls, bidi overrides, non-characters).
    public static func refuses(_ scalar: Unicode.Scalar, multiline: Bool) -> Bool {
        if multiline, scalar == "\n" || scalar == "\t" { return false }
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true  // C0 and C1 controls, NUL included
        case 0x202A...0x202E, 0x2066...0x2069: return true  // bidi embeddings, overrides, isolates
        case 0xFFFD: return true  // a replacement character: bytes that were not text where they came from
        case 0xFFFE, 0xFFFF: return true
        default: return false
        }
    }

    public var description: String { value }
}
