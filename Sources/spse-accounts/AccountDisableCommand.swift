import Accounts
import ArgumentParser

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
        try await options.run { services, actor in
            let userID = try UserID(userId)
            try await services.directory.setStatus(.disabled, of: userID, by: actor)
            if options.output.json {
                try OutputOptions.printJSON(["user_id": userID.value, "result": "disabled"])
            } else {
                print("disabled \(userID)")
            }
        }
    }
}
