import Accounts
import ArgumentParser
import Operations

struct AccountUnlockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlock",
        abstract: "Lift a lockout after repeated failed logins (admin_ppe).",
        discussion: """
            Example:
              spse-accounts account unlock helpdesk01 --operator admin.ppe
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @Argument(help: "The account's user ID.") var userId: String

    func run() async throws {
        try await options.run { operations, caller in
            try await operations.unlockAccount(userId, by: caller)
            if options.output.json {
                try OutputOptions.printJSON(["user_id": userId, "result": "unlocked"])
            } else {
                print("unlocked \(userId)")
            }
        }
    }
}
