import ArgumentParser
import Operations
import Gate

struct RequestReissueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reissue",
        abstract: "SOP step 6 again: a new temporary password when the first was never seen (admin_ppe, before the hand-over).",
        discussion: """
            The earlier temporary password stops working; under sealed delivery its second half is \
            replaced too. Audited as a re-issue; the SLA still counts from the first execution.

            Example:
              spse-accounts request reissue REQ-2026-000042
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @OptionGroup var reference: RequestReference

    func run() async throws {
        try await RequestStep.run(options, reference.request, .reissue)
    }
}
