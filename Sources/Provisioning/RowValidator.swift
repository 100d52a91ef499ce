import Accounts

/// A row that passed every field rule, as the account it asks for.
public struct ValidRow: Sendable {
    public let line: Int
    public let account: NewAccount
}

/// Judges each record's fields with the account value types, reporting every bad field of every
/// row rather than stopping at the first.
public enum RowValidator {
    /// The roles a batch may create: the accounts the Admin PPE manages. Operators of the gate
    /// (admin_ppe, staf_administrasi) are created one at a time with `account create`.
    public static let provisionableRoles: [Role] = [.helpdesk, .adminAgency, .verifikator, .auditor]

    public static func validate(_ records: [BatchRecord]) -> (rows: [ValidRow], problems: [RowProblem]) {
        var rows: [ValidRow] = []
        var problems: [RowProblem] = []
        for record in records {
            var rowProblems: [RowProblem] = []
            func field<T>(_ column: BatchColumn, _ rule: RowProblem.Rule, _ make: (String) throws -> T) -> T? {
                do {
                    return try make(record.values[column] ?? "")
                } catch {
                    rowProblems.append(RowProblem(line: record.line, column: column, rule: rule, detail: Self.reason(error)))
                    return nil
                }
            }
            let userID = field(.userID, .badUserID) { try UserID($0.trimmingCharacters(in: .whitespaces)) }
            let role = field(.role, .badRole) { try Role(parsing: $0.trimmingCharacters(in: .whitespaces).lowercased()) }
            if let role, !provisionableRoles.contains(role) {
                rowProblems.append(RowProblem(
                    line: record.line, column: .role, rule: .roleNotProvisionable,
                    detail: "\(role.rawValue) accounts are created one at a time; a batch may hold \(provisionableRoles.map(\.rawValue).joined(separator: ", "))"))
            }
            let fullName = field(.fullName, .badFullName) { try FullName($0) }
            let nip = field(.nip, .badNIP) { text -> NIP? in
                text.trimmingCharacters(in: .whitespaces).isEmpty ? nil : try NIP(text)
            }
            let email = field(.email, .badEmail) { try EmailAddress($0) }
            let agency = field(.agency, .badAgency) { try Agency($0) }
            if rowProblems.isEmpty, let userID, let role, let fullName, let nip, let email, let agency {
                rows.append(ValidRow(line: record.line, account: NewAccount(userID: userID, role: role, fullName: fullName, nip: nip, email: email, agency: agency)))
            }
            problems += rowProblems
        }
        return (rows, problems)
    }

    static func reason(_ error: any Error) -> String {
        if case .invalidField(_, let reason) = error as? AccountsError { return reason }
        return "\(error)"
    }
}
