import ArgumentParser
import Foundation

@main
struct SPSEAccounts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spse-accounts",
        abstract: "Account service for an LPSE's SPSE: accounts, password resets behind the SOP gate, audit.",
        discussion: """
            Connects to PostgreSQL with DATABASE_URL, or libpq's PG* variables when it is not set.

            Commands that act for an operator (account, request, provision, report, audit export) \
            authenticate them first: --operator or SPSE_OPERATOR with SPSE_OPERATOR_PASSWORD or a \
            prompt without echo, or SPSE_OPERATOR_TOKEN (an API session token). They are audited \
            under that operator.

            \(ExitStatus.documentation)
            """,
        subcommands: [
            ServeCommand.self, MigrateCommand.self, BootstrapAdminCommand.self, PasswordCommand.self, AccountCommand.self, RequestCommand.self,
            ProvisionCommand.self, ReportCommand.self, AuditCommand.self, StandardsCommand.self, DeviationCommand.self, TOTPCommand.self, DeploymentCommand.self, OIDCCommand.self,
        ]
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
