import Accounts

/// Why a provisioning run wrote nothing. `invalidRows` carries every problem found, not the first.
public enum ProvisioningError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidRows([RowProblem])
    /// New accounts need somewhere to put their temporary passwords.
    case credentialsOutputRequired(newAccounts: Int)
    /// The credentials file exists already; it is never overwritten.
    case credentialsOutputExists(path: String)
    /// The credentials file cannot be written (directory missing, permissions, another run holds it).
    case credentialsOutput(path: String, reason: String)
    case notPermitted(role: Role)

    public var description: String {
        switch self {
        case .invalidRows(let problems):
            return "\(problems.count) problem\(problems.count == 1 ? "" : "s") in the batch; nothing was provisioned:\n"
                + problems.map { "  \($0)" }.joined(separator: "\n")
        case .credentialsOutputRequired(let count):
            return "\(count) new account\(count == 1 ? "" : "s") would get temporary passwords: give --credentials-out PATH (or - for stdout)"
        case .credentialsOutputExists(let path):
            return "\(path) exists already; credentials files are never overwritten, choose a new path"
        case .credentialsOutput(let path, let reason):
            return "cannot write credentials to \(path): \(reason)"
        case .notPermitted(let role):
            return "\(role.rawValue) may not provision accounts; only admin_ppe may"
        }
    }
}
