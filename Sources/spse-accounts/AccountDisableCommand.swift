import Accounts
import ArgumentParser
import Operations

struct AccountDisableCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Disable an account and end its sessions (admin_ppe).",
        discussion: """
            Example:
              spse-accounts account disable helpdesk01 --operator admin.ppe
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @Argument(help: "The account's user ID.") var userId: String

    func run() async throws {
        try await options.run { operations, caller in
            try await operations.setAccountStatus(userId, to: .disabled, by: caller)
            if options.output.json {
                try OutputOptions.printJSON(["user_id": userId, "result": "disabled"])
            } else {
                print("disabled \(userId)")
            }
        }
    }
}
