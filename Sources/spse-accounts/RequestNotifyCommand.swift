import ArgumentParser
import Operations
import Gate

struct RequestNotifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify",
        abstract: "SOP steps 3, 7 and 8: tell the requester (the notice goes through the outbox).",
        discussion: """
            Example:
              spse-accounts request notify REQ-2026-000042
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @OptionGroup var reference: RequestReference

    func run() async throws {
        try await RequestStep.run(options, reference.request, .notify)
    }
}
