import ArgumentParser
import Operations
import Gate

struct RequestSupplementCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supplement",
        abstract: "The requester handed in what was missing: back to the completeness check (staf_administrasi).",
        discussion: """
            Example:
              spse-accounts request supplement REQ-2026-000042
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @OptionGroup var reference: RequestReference

    func run() async throws {
        try await RequestStep.run(options, reference.request, .supplement)
    }
}
