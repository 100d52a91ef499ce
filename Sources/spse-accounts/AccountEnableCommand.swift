import Accounts
import ArgumentParser

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
        try await options.run { services, actor in
            let userID = try UserID(userId)
            try await services.directory.setStatus(.active, of: userID, by: actor)
            if options.output.json {
                try OutputOptions.printJSON(["user_id": userID.value, "result": "enabled"])
            } else {
                print("enabled \(userID)")
            }
        }
    }
}
