import Accounts
import ArgumentParser
import Operations

struct AccountEnableCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable",
        abstract: "Enable a disabled account (admin_ppe).",
        discussion: """
            Example:
              spse-accounts account enable helpdesk01 --operator admin.ppe
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @Argument(help: "The account's user ID.") var userId: String

    func run() async throws {
        try await options.run { operations, caller in
            try await operations.setAccountStatus(userId, to: .active, by: caller)
            if options.output.json {
                try OutputOptions.printJSON(["user_id": userId, "result": "enabled"])
            } else {
                print("enabled \(userId)")
            }
        }
    }
}
