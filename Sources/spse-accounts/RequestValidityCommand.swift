import ArgumentParser
import Operations
import Gate

struct RequestValidityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validity",
        abstract: "SOP step 5: the file is valid (naming the subject account) or not, with a reason (admin_ppe).",
        discussion: """
            Example:
              spse-accounts request validity REQ-2026-000042 --valid --subject-user-id helpdesk01
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @OptionGroup var reference: RequestReference
    @Flag(help: "The documents are genuine and match the account.") var valid = false
    @Flag(help: "They are not; the requester is told why.") var invalid = false
    @Option(help: "The account the request concerns (with --valid).") var subjectUserId: String?
    @Option(help: "Why the file is invalid (with --invalid).") var reason: String?
    @Option(help: "Why the account is right although the requester's name, NIP, e-mail or user ID differ from it (with --valid).")
    var acknowledge: String?

    func run() async throws {
        guard valid != invalid else { throw ValidationError("give exactly one of --valid or --invalid") }
        try await RequestStep.run(options, reference.request, .validity(valid: valid, subjectUserID: subjectUserId, reason: reason, acknowledgement: acknowledge))
    }
}
