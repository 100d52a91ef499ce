/// A login name: 3–64 characters of `a-z 0-9 . _ -`. Input is lower-cased first, so user IDs are
/// unique case-insensitively.
public struct UserID: Sendable, Hashable, Codable, CustomStringConvertible {
    public let value: String

    public init(_ text: String) throws(AccountsError) {
        let lowered = text.lowercased()
        guard (3...64).contains(lowered.count) else {
            throw .invalidField(.userID, "must be 3 to 64 characters long")
        }
        guard lowered.unicodeScalars.allSatisfy({ Self.allowed.contains($0) }) else {
            throw .invalidField(.userID, "may contain only a-z, 0-9, '.', '_' and '-'")
        }
        value = lowered
    }

    private static let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-".unicodeScalars)
    public var description: String { value }
}
