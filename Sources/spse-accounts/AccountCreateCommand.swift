import Accounts
import ArgumentParser
import Operations
import Foundation
import HTTPAPI

struct AccountCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create one account with its first temporary password (admin_ppe), printed once.",
        discussion: """
            The temporary password must be changed at first login and expires after \
            SPSE_TEMP_PASSWORD_TTL (default 72h). For many accounts use `provision`.

            Example:
              SPSE_OPERATOR=admin.ppe spse-accounts account create --user-id helpdesk01 --role helpdesk \\
                --full-name "Sekar Ayu Wulandari" --nip 196102251986031010 \\
                --email sekar@purbalinggakab.go.id --agency "Dinas Kominfo"
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @Option(help: "Login name: 3–64 of a-z 0-9 . _ -") var userId: String
    @Option(help: "admin_ppe, staf_administrasi, helpdesk, admin_agency, verifikator or auditor.") var role: String
    @Option(help: "Full name as written.") var fullName: String
    @Option(help: "NIP, 18 digits (optional).") var nip: String?
    @Option(help: "E-mail address.") var email: String
    @Option(help: "Agency (instansi/satker).") var agency: String

    func run() async throws {
        try await options.run { operations, caller in
            let created = try await operations.createAccount(
                NewAccountForm(userID: userId, role: role, fullName: fullName, nip: nip, email: email, agency: agency), by: caller)
            if options.output.json {
                try OutputOptions.printJSON(CreatedAccountView(account: created.account, password: created.password, expiresAt: created.expiresAt))
            } else {
                print("created \(created.account.role.rawValue) \(created.account.userID)")
                print("temporary password (shown once, change at first login): \(created.password.reveal)")
                print("expires at \(ISO8601DateFormatter().string(from: created.expiresAt))")
            }
        }
    }
}
