import ArgumentParser
import Foundation

@main
struct SPSEAccounts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spse-accounts",
        abstract: "Account service for an LPSE's SPSE: accounts, password resets behind the SOP gate, audit.",
        discussion: """
            Connects to PostgreSQL with DATABASE_URL, or libpq's PG* variables when it is not set.

            Exit codes: 0 ok, 1 usage, 2 refused by policy or state (e.g. the database is behind \
            or a migration was edited), 3 not found, 4 database unavailable, 5 internal error.
            """,
        subcommands: [ServeCommand.self, MigrateCommand.self, BootstrapAdminCommand.self, AuditCommand.self]
    )

    /// ArgumentParser's own loop, with one change: usage errors exit 1 (as documented), not 64.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                Foundation.exit(0)
            }
            if !message.isEmpty { ExitStatus.printError(message) }
            Foundation.exit(code == .validationFailure ? 1 : code.rawValue)
        }
    }
}
