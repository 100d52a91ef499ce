import Accounts
import ArgumentParser

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
        try await options.run { services, actor in
            let userID = try UserID(userId)
            try await services.directory.unlock(userID, by: actor)
            if options.output.json {
                try OutputOptions.printJSON(["user_id": userID.value, "result": "unlocked"])
            } else {
                print("unlocked \(userID)")
            }
        }
    }
}
