import Accounts
import ArgumentParser
import Foundation
import HTTPAPI
import Operations

struct AccountResetPasswordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset-password",
        abstract: "Reset a forgotten operator password (admin_ppe or staf_administrasi) as another admin_ppe; printed once.",
        discussion: """
            Managed accounts (helpdesk, admin_agency, verifikator, auditor) are reset only through
            the SOP gate (`request ...`). The operator must change the temporary password at the
            next login. A site whose only admin_ppe forgot the password uses `bootstrap-admin --recover`.

            Example:
              spse-accounts account reset-password staf.adm --reason "lupa password, nota dinas 12/2026" --operator admin.ppe
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @Argument(help: "The operator's user ID.") var userId: String
    @Option(help: "Why (recorded in the audit trail).") var reason: String

    func run() async throws {
        try await options.run { operations, caller in
            let reset = try await operations.resetOperatorPassword(userId, reason: reason, by: caller)
            if options.output.json {
                try OutputOptions.printJSON(TemporaryPasswordView(temporaryPassword: reset.password.reveal, expiresAt: reset.expiresAt))
            } else {
                print("temporary password for \(userId) (shown once, change at next login): \(reset.password.reveal)")
                print("expires at \(ISO8601DateFormatter().string(from: reset.expiresAt))")
            }
        }
    }
}
