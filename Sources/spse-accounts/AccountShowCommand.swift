import Accounts
import ArgumentParser
import Operations
import HTTPAPI

struct AccountShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one account (audited as a lookup with its reason).",
        discussion: """
            Example:
              spse-accounts account show helpdesk01 --reason REQ-2026-000042 --json
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @Argument(help: "The account's user ID.") var userId: String
    @Option(help: "Why you look: a request number or a short reason (recorded in the audit trail).") var reason: String = "show"

    func run() async throws {
        try await options.run { operations, caller in
            let account = try await operations.showAccount(userId, reason: reason, by: caller)
            if options.output.json {
                try OutputOptions.printJSON(AccountView(account))
            } else {
                AccountText.print(account)
            }
        }
    }
}

/// Accounts for people reading a terminal.
enum AccountText {
    static func print(_ account: Account) {
        Swift.print("""
            user_id     \(account.userID)
            role        \(account.role.rawValue)
            full_name   \(account.fullName)
            nip         \(account.nip?.value ?? "-")
            email       \(account.email)
            agency      \(account.agency)
            status      \(account.status.rawValue)\(account.mustChangePassword ? " (must change password)" : "")\(account.lockedUntil.map { " (locked until \($0))" } ?? "")
            """)
    }

    static func line(_ account: Account) -> String {
        "\(account.userID)\t\(account.role.rawValue)\t\(account.fullName)\t\(account.nip?.value ?? "-")\t\(account.email)\t\(account.agency)\t\(account.status.rawValue)"
    }
}
