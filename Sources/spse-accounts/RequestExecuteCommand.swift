import ArgumentParser
import Operations
import Gate

struct RequestExecuteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "execute",
        abstract: "SOP step 6: reset the password (a temporary one, printed once) and/or disclose the user ID (admin_ppe).",
        discussion: """
            Example:
              spse-accounts request execute REQ-2026-000042
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @OptionGroup var reference: RequestReference

    func run() async throws {
        try await RequestStep.run(options, reference.request, .execute)
    }
}
