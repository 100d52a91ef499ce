import ArgumentParser
import Operations
import Gate

struct RequestArchiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "SOP step 9: archive the request file; nothing about it changes after (admin_ppe or staf_administrasi).",
        discussion: """
            Example:
              spse-accounts request archive REQ-2026-000042
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @OptionGroup var reference: RequestReference

    func run() async throws {
        try await RequestStep.run(options, reference.request, .archive)
    }
}
