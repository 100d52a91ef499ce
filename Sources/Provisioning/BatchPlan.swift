import Accounts

/// What a validated batch will do against the accounts that exist: create, leave unchanged (a
/// re-run), or refuse (a duplicate inside the file, a conflict with a different account).
public struct BatchPlan: Sendable {
    public var toCreate: [ValidRow] = []
    public var unchanged: [ValidRow] = []
    public var problems: [RowProblem] = []

    /// Rows repeating an earlier row's user ID, e-mail or NIP inside the same file.
    static func duplicates(in rows: [ValidRow]) -> (unique: [ValidRow], problems: [RowProblem]) {
        var firstLine: [BatchColumn: [String: Int]] = [:]
        var unique: [ValidRow] = []
        var problems: [RowProblem] = []
        for row in rows {
            var rowProblems: [RowProblem] = []
            let keys: [(BatchColumn, String?)] = [
                (.userID, row.account.userID.value), (.email, row.account.email.value.lowercased()), (.nip, row.account.nip?.value),
            ]
            for case (let column, let key?) in keys {
                if let earlier = firstLine[column, default: [:]][key] {
                    rowProblems.append(RowProblem(line: row.line, column: column, rule: .duplicateInFile, detail: "same \(column.rawValue) as line \(earlier)"))
                } else {
                    firstLine[column, default: [:]][key] = row.line
                }
            }
            if rowProblems.isEmpty { unique.append(row) } else { problems += rowProblems }
        }
        return (unique, problems)
    }

    /// Sorts unique rows by the accounts that collide with them.
    static func classify(_ rows: [ValidRow], against existing: [Account]) -> BatchPlan {
        var byUserID: [String: Account] = [:]
        var byEmail: [String: Account] = [:]
        var byNIP: [String: Account] = [:]
        for account in existing {
            byUserID[account.userID.value] = account
            byEmail[account.email.value.lowercased()] = account
            if let nip = account.nip { byNIP[nip.value] = account }
        }
        var plan = BatchPlan()
        for row in rows {
            let wanted = row.account
            if let same = byUserID[wanted.userID.value] {
                if wanted.isProvisioned(as: same) {
                    plan.unchanged.append(row)
                } else {
                    let differing = differences(wanted, same)
                    plan.problems.append(RowProblem(
                        line: row.line, column: .userID, rule: .conflictExisting,
                        detail: "an existing account has this user_id with a different \(differing.map(\.rawValue).joined(separator: ", "))"))
                }
                continue
            }
            var rowProblems: [RowProblem] = []
            if let other = byEmail[wanted.email.value.lowercased()] {
                rowProblems.append(RowProblem(line: row.line, column: .email, rule: .conflictExisting, detail: "already the e-mail of account \(other.userID.value)"))
            }
            if let nip = wanted.nip, let other = byNIP[nip.value] {
                rowProblems.append(RowProblem(line: row.line, column: .nip, rule: .conflictExisting, detail: "already the NIP of account \(other.userID.value)"))
            }
            if rowProblems.isEmpty { plan.toCreate.append(row) } else { plan.problems += rowProblems }
        }
        return plan
    }

    private static func differences(_ wanted: NewAccount, _ existing: Account) -> [BatchColumn] {
        var columns: [BatchColumn] = []
        if wanted.role != existing.role { columns.append(.role) }
        if wanted.fullName != existing.fullName { columns.append(.fullName) }
        if wanted.nip != existing.nip { columns.append(.nip) }
        if wanted.email.value.lowercased() != existing.email.value.lowercased() { columns.append(.email) }
        if wanted.agency != existing.agency { columns.append(.agency) }
        return columns
    }
}
