import ArgumentParser
import Foundation
import Accounts
import Federation
import Gate
import Inputs
import Operations
import Migrations
import PasswordHashing
import Postgres
import Provisioning

/// The one place where errors become exit codes, a message on stderr and, with `--json`, an error
/// object on stdout: `{"error": code, "message": text, "problems": [...]}`.
enum ExitStatus {
    static let usage: Int32 = 1
    static let refused: Int32 = 2
    static let notFound: Int32 = 3
    static let databaseUnavailable: Int32 = 4
    static let internalError: Int32 = 5
    static let authenticationFailed: Int32 = 6

    static let documentation = """
        Exit codes: 0 ok, 1 usage (a bad option or value), 2 refused by policy or state (a bad \
        batch row, a wrong request state, a role that may not, a database that is behind), 3 not \
        found, 4 database unavailable, 5 internal error, 6 operator authentication failed.
        """

    /// Prints `error` and returns the exit code to leave with. ArgumentParser's own errors pass through.
    static func fail(_ error: any Error, json: Bool = false) -> any Error {
        if error is ValidationError || error is ExitCode || error is CleanExit { return error }
        let (code, name) = classify(error)
        printError("spse-accounts: \(error)")
        if json {
            var object: [String: Any] = ["error": name, "message": "\(error)"]
            if let error = error as? InputError { object["field"] = error.field }
            if case ProvisioningError.invalidRows(let problems) = error {
                object["problems"] = problems.map { problem -> [String: Any] in
                    ["line": problem.line, "column": problem.column?.rawValue ?? NSNull(), "rule": problem.rule.rawValue, "detail": problem.detail]
                }
            }
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                print(String(decoding: data, as: UTF8.self))
            }
        }
        return ExitCode(code)
    }

    static func classify(_ error: any Error) -> (Int32, String) {
        switch error {
        case let error as MigrationError:
            if case .failed(_, _, let underlying) = error, underlying.isConnectionProblem { return (databaseUnavailable, "database_unavailable") }
            return (refused, "migrations")
        case PostgresError.invalidText:
            return (usage, "invalid_input")
        case let error as PostgresError where error.fault != nil:
            return (databaseUnavailable, error.fault == .busy ? "database_busy" : "database_unavailable")
        case is InputError:
            return (usage, "invalid_input")
        case let error as FederationError:
            switch error {
            case .invalidRegistration: return (usage, error.code)
            case .signingUnavailable: return (internalError, "signing_unavailable")
            default: return (refused, error.code)
            }
        case is CancellationError:
            return (databaseUnavailable, "cancelled")
        case is SettingsError:
            return (usage, "configuration")
        case let error as OperatorAuthenticationError:
            if case .refused = error { return (authenticationFailed, "authentication_failed") }
            return (usage, "no_operator")
        case let error as AccountsError:
            switch error {
            case .accountNotFound: return (notFound, "account_not_found")
            case .invalidField: return (usage, "invalid_field")
            case .invalidLookup: return (usage, "invalid_lookup")
            case .configuration: return (usage, "configuration")
            case .conflict: return (refused, "conflict")
            case .notPermitted: return (refused, "not_permitted")
            default: return (refused, "refused")
            }
        case let error as GateError:
            switch error {
            case .requestNotFound, .documentNotFound, .subjectNotFound: return (notFound, "not_found")
            case .unknownKind, .noKind, .subjectRequired, .handoverBeforeExecution, .handoverInFuture: return (usage, "invalid_input")
            case .subjectWrongRole: return (usage, "subject_wrong_role")
            case .reasonRequired: return (usage, "reason_required")
            case .stillInTime: return (refused, "still_in_time")
            case .wrongState: return (refused, "wrong_state")
            case .notPermitted: return (refused, "not_permitted")
            case .separationOfDuties: return (refused, "separation_of_duties")
            case .busy: return (databaseUnavailable, "database_busy")
            default: return (refused, "refused")
            }
        case let error as ProvisioningError:
            switch error {
            case .invalidRows: return (refused, "invalid_rows")
            case .credentialsOutputRequired: return (usage, "credentials_out_required")
            case .credentialsOutputExists: return (refused, "credentials_out_exists")
            case .credentialsOutput: return (refused, "credentials_out")
            case .notPermitted: return (refused, "not_permitted")
            }
        case let error as PasswordHashingError:
            if case .invalidParameters = error { return (usage, "configuration") }
            return (internalError, "internal")
        default:
            return (internalError, "internal")
        }
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
