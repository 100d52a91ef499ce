import Foundation

/// The password rules, after NIST SP 800-63B: length only (no composition rules), Unicode NFKC,
/// and refusal of common and context-derived passwords. History and "same as the temporary
/// password" need Argon2 and are checked by `Credentials`.
public struct PasswordPolicy: Sendable {
    public let minimumLength: Int
    public let maximumLength = 128
    private let blocklist: Set<String>

    public init(minimumLength: Int = 12, blocklist: Set<String>) {
        self.minimumLength = minimumLength
        self.blocklist = blocklist
    }

    /// The policy with the shipped list of ~30,000 common passwords (zxcvbn's list, MIT, plus
    /// Indonesian ones) and `SPSE_PASSWORD_MIN_LENGTH`.
    /// The shipped blocklist with a minimum length (8…128; `SPSE_PASSWORD_MIN_LENGTH` via the settings).
    public static func standard(minimumLength minimum: Int = 12) throws -> PasswordPolicy {
        guard (8...128).contains(minimum) else {
            throw AccountsError.configuration("SPSE_PASSWORD_MIN_LENGTH must be 8…128")
        }
        guard let url = Bundle.module.url(forResource: "common-passwords", withExtension: "txt"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { throw CocoaError(.fileReadNoSuchFile) }
        return PasswordPolicy(minimumLength: minimum, blocklist: Set(text.split(separator: "\n").map(String.init)))
    }

    public var blocklistSize: Int { blocklist.count }

    /// NFKC, so that full-width or composed forms of one password are one password.
    public func normalize(_ password: String) -> String {
        password.precomposedStringWithCompatibilityMapping
    }

    /// Refuses `password` (already normalized) naming the rule it breaks.
    public func check(_ password: String, userID: UserID, fullName: FullName, agency: Agency, email: EmailAddress? = nil) throws(AccountsError) {
        let length = password.count
        guard length >= minimumLength else {
            throw .passwordPolicy(rule: "min_length", detail: "at least \(minimumLength) characters; this has \(length)")
        }
        guard length <= maximumLength else {
            throw .passwordPolicy(rule: "max_length", detail: "at most \(maximumLength) characters")
        }
        let lowered = password.lowercased()
        let stem = String(lowered.reversed().drop(while: { $0.isNumber || $0.isPunctuation || $0.isSymbol }).reversed())
        if blocklist.contains(lowered) || blocklist.contains(stem) {
            throw .passwordPolicy(rule: "blocklist", detail: "this is a commonly used password")
        }
        for word in Self.contextWords(userID: userID, fullName: fullName, agency: agency, email: email) where lowered.contains(word) {
            throw .passwordPolicy(rule: "context", detail: "must not contain your user ID, name, e-mail, agency or \"spse\"/\"lpse\"")
        }
    }

    static func contextWords(userID: UserID, fullName: FullName, agency: Agency, email: EmailAddress? = nil) -> [String] {
        func words(_ text: String, minimum: Int) -> [String] {
            text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init).filter { $0.count >= minimum }
        }
        // The e-mail's local part, whole (`sekar.ayu`) and by its words.
        let local = email.map { String($0.value.lowercased().prefix { $0 != "@" }) }.map { [$0] + words($0, minimum: 4) } ?? []
        return ["spse", "lpse", userID.value] + local.filter { $0.count >= 4 } + words(fullName.value, minimum: 4) + words(agency.value, minimum: 5)
    }
}
