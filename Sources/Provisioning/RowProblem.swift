/// What is wrong with one row (or with the file as a whole, then `column` is nil): where it is, the
/// rule it breaks, and a sentence for the operator. Never carries a password.
public struct RowProblem: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Stable names scripts can match on.
    public enum Rule: String, Sendable, Codable {
        case notUTF8 = "not_utf8"
        case missingHeader = "missing_header"
        case badHeader = "bad_header"
        case unterminatedQuote = "unterminated_quote"
        case invalidJSON = "invalid_json"
        case fieldCount = "field_count"
        case badUserID = "bad_user_id"
        case badRole = "bad_role"
        case roleNotProvisionable = "role_not_provisionable"
        case badFullName = "bad_full_name"
        case badNIP = "bad_nip"
        case badEmail = "bad_email"
        case badAgency = "bad_agency"
        case duplicateInFile = "duplicate_in_file"
        case conflictExisting = "conflict_existing"
        case noRows = "no_rows"
        case tooManyRows = "too_many_rows"
    }

    public let line: Int
    public let column: BatchColumn?
    public let rule: Rule
    public let detail: String

    public init(line: Int, column: BatchColumn?, rule: Rule, detail: String) {
        self.line = line
        self.column = column
        self.rule = rule
        self.detail = detail
    }

    public var description: String {
        "line \(line)\(column.map { ", \($0.rawValue)" } ?? ""): \(rule.rawValue): \(detail)"
    }
}
