import Foundation
import Inputs

/// A person's name as written, in any script, stored in Unicode NFC so that the same name typed
/// on two keyboards compares equal.
public struct FullName: Sendable, Hashable, Codable, CustomStringConvertible {
    public let value: String

    public init(_ text: String) throws(AccountsError) {
        let normalized = text.trimmingWhitespace.precomposedStringWithCanonicalMapping
        guard !normalized.isEmpty, normalized.count <= 200 else {
            throw .invalidField(.fullName, "must be 1 to 200 characters")
        }
        guard !normalized.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || FreeText.refuses($0, multiline: false) }) else {
            throw .invalidField(.fullName, "must not contain control characters")
        }
        value = normalized
    }

    public var description: String { value }
}

/// An agency (instansi / satuan kerja) name, normalized like a full name.
public struct Agency: Sendable, Hashable, Codable, CustomStringConvertible {
    public let value: String

    public init(_ text: String) throws(AccountsError) {
        let normalized = text.trimmingWhitespace.precomposedStringWithCanonicalMapping
        guard !normalized.isEmpty, normalized.count <= 200,
            !normalized.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || FreeText.refuses($0, multiline: false) })
        else { throw .invalidField(.agency, "must be 1 to 200 printable characters") }
        value = normalized
    }

    public var description: String { value }
}
