import ArgumentParser
import Operations
import Gate

struct RequestDismissCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dismiss",
        abstract: "Step 2 for an online filing: refuse it at intake as spam or as a duplicate (no notice is sent).",
        discussion: """
            Example:
              spse-accounts request dismiss REQ-2026-000042 --reason duplicate
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @OptionGroup var reference: RequestReference
    @Option(help: "spam or duplicate.") var reason: String

    func run() async throws {
        try await RequestStep.run(options, reference.request, .dismiss(reason: reason))
    }
}
