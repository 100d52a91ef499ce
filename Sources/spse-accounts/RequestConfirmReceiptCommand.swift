import ArgumentParser
import Operations
import Gate

struct RequestConfirmReceiptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "confirm-receipt",
        abstract: "Record that the requester received the temporary password or user ID.",
        discussion: """
            Example:
              spse-accounts request confirm-receipt REQ-2026-000042
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @OptionGroup var reference: RequestReference

    func run() async throws {
        try await RequestStep.run(options, reference.request, .confirmReceipt)
    }
}
