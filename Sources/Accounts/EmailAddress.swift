/// An e-mail address: a dot-atom local part and a DNS domain with a dot, at most 254 characters.
/// The domain is lower-cased; uniqueness is case-insensitive on the whole address.
public struct EmailAddress: Sendable, Hashable, Codable, CustomStringConvertible {
    public let value: String

    public init(_ text: String) throws(AccountsError) {
        let trimmed = text.trimmingWhitespace
        guard trimmed.count <= 254, let at = trimmed.lastIndex(of: "@") else {
            throw .invalidField(.email, "must look like name@agency.go.id")
        }
        let local = trimmed[..<at]
        let domain = trimmed[trimmed.index(after: at)...].lowercased()
        let localAllowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-.".unicodeScalars)
        guard !local.isEmpty, local.count <= 64, local.unicodeScalars.allSatisfy(localAllowed.contains),
            !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..")
        else { throw .invalidField(.email, "the part before @ is not a valid mailbox name") }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        let labelAllowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-".unicodeScalars)
        guard labels.count >= 2,
            labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 && !$0.hasPrefix("-") && !$0.hasSuffix("-") && $0.unicodeScalars.allSatisfy(labelAllowed.contains) }),
            labels.last!.count >= 2, labels.last!.allSatisfy(\.isLetter)
        else { throw .invalidField(.email, "the domain after @ is not a valid domain name") }
        value = "\(local)@\(domain)"
    }

    public var description: String { value }
}

extension StringProtocol {
    var trimmingWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
