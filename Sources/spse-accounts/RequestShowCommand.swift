import Accounts
import ArgumentParser
import Operations
import Gate
import HTTPAPI

struct RequestShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "One request: its state, subject, documents and what may happen next.",
        discussion: """
            Example:
              spse-accounts request show REQ-2026-000042 --json
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @OptionGroup var reference: RequestReference

    func run() async throws {
        try await options.run { operations, caller in
            let found = try await operations.request(reference.request, by: caller)
            let (request, documents) = (found.request, found.documents)
            // What this operator may do now, as the gate would judge it.
            let yours = request.actions(for: caller.actor).map(\.rawValue).joined(separator: ", ")
            if options.output.json {
                try OutputOptions.printJSON(RequestView(request, allowed: request.allowedActions, documents: documents, for: caller.actor))
                return
            }
            print("""
                \(request.number) (id \(request.id))
                kinds       \(request.kinds.names.joined(separator: ", "))
                state       \(request.state.rawValue)
                subject     \(request.subjectRole.rawValue) \(request.subjectUserID ?? request.subject.userID ?? request.subject.fullName ?? "-")
                requester   \(request.requesterName) <\(request.requesterContact)> via \(request.channel.rawValue)
                documents   \(documents.isEmpty ? "none" : documents.map { "\($0.type.rawValue) \($0.fileName)" }.joined(separator: ", "))
                next        \(request.allowedActions.map(\.description).joined(separator: "; "))
                yours       \(yours.isEmpty ? "none" : yours)
                """)
        }
    }
}
