import Accounts
import ArgumentParser
import Operations
import HTTPAPI

struct AccountLookupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup",
        abstract: "Find accounts by user ID, NIP or e-mail (exact), else by name or agency (typo-tolerant).",
        discussion: """
            Every lookup is audited with its reason (SOP step 6 for a forgotten user ID).

            Examples:
              spse-accounts account lookup 196102251986031010 --reason REQ-2026-000042
              spse-accounts account lookup "sekar wulandari" --role helpdesk --reason "telepon helpdesk" --json
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @Argument(help: "User ID, NIP, e-mail, or part of a name or agency.") var text: String
    @Option(help: "Why you look: a request number or a short reason (required, audited).") var reason: String
    @Option(help: "Only this role.") var role: String?
    @Option(help: "Only accounts of an agency containing this text.") var agency: String?
    @Option(help: "Page (1-based, 20 a page, at most 10000).") var page: String?

    func run() async throws {
        try await options.run { operations, caller in
            let result = try await operations.lookUpAccounts(
                LookupForm(q: text, role: role, agency: agency, page: page, reason: reason), by: caller)
            if options.output.json {
                try OutputOptions.printJSON(LookupView(result))
            } else {
                print("matched by \(result.matchedBy), page \(result.page)\(result.hasMore ? " (more: --page \(result.page + 1))" : "")")
                for account in result.accounts { print(AccountText.line(account)) }
            }
            if result.accounts.isEmpty { throw AccountsError.accountNotFound }
        }
    }
}
