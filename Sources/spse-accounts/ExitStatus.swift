import ArgumentParser
import Foundation
import Accounts
import Migrations
import Postgres

/// The one place where errors become exit codes and a message on stderr.
enum ExitStatus {
    static let refused: Int32 = 2
    static let notFound: Int32 = 3
    static let databaseUnavailable: Int32 = 4
    static let internalError: Int32 = 5

    /// Prints `error` and returns the exit code to leave with.
    static func fail(_ error: any Error) -> ExitCode {
        let code: Int32
        switch error {
        case let error as MigrationError:
            if case .failed(_, _, let underlying) = error, underlying.isConnectionProblem {
                code = databaseUnavailable
            } else {
                code = refused
            }
        case let error as PostgresError where error.isConnectionProblem:
            code = databaseUnavailable
        case let error as AccountsError:
            switch error {
            case .accountNotFound: code = notFound
            case .invalidField, .invalidLookup, .configuration: code = 1
            default: code = refused
            }
        default:
            code = internalError
        }
        printError("spse-accounts: \(error)")
        return ExitCode(code)
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
