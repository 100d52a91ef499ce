import Accounts
import ArgumentParser
import Operations
import Foundation
import Gate
import HTTPAPI

struct RequestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request",
        abstract: "SOP 004 requests: the queue, one request, and each step, as an authenticated operator.",
        discussion: """
            The steps run through the same gate as the HTTP API: state, role and separation of \
            duties are checked, and each step is audited under the operator.

            Example of a whole reset:
              spse-accounts request submit --kind reset_password --subject-user-id helpdesk01 \\
                --requester-name "Sekar Ayu" --requester-contact sekar@purbalinggakab.go.id --channel hardcopy
              spse-accounts request attach REQ-2026-000042 --type surat_permohonan surat.pdf
              spse-accounts request attach REQ-2026-000042 --type sk_pengangkatan sk.pdf
              spse-accounts request completeness REQ-2026-000042 --complete          # staf_administrasi
              spse-accounts request notify REQ-2026-000042                           # staf_administrasi
              spse-accounts request validity REQ-2026-000042 --valid --subject-user-id helpdesk01   # admin_ppe
              spse-accounts request execute REQ-2026-000042                          # admin_ppe
              spse-accounts request handover REQ-2026-000042 --channel phone --recipient "Sekar Ayu"
              spse-accounts request archive REQ-2026-000042                          # staf_administrasi

            \(ExitStatus.documentation)
            """,
        subcommands: [
            RequestListCommand.self, RequestShowCommand.self, RequestSubmitCommand.self, RequestAttachCommand.self,
            RequestCompletenessCommand.self, RequestSupplementCommand.self, RequestValidityCommand.self, RequestExecuteCommand.self, RequestReissueCommand.self,
            RequestNotifyCommand.self, RequestHandoverCommand.self, RequestConfirmReceiptCommand.self, RequestArchiveCommand.self, RequestDismissCommand.self,
            RequestExportCommand.self, RequestAbandonExpiredCommand.self, RequestPurgeDocumentsCommand.self,
        ]
    )

}

/// One SOP step from the CLI: load, act through the gate, print the result.
struct RequestStep {
    static func run(_ options: OperatorCommandOptions, _ reference: String, _ step: StepForm) async throws {
        try await options.run { operations, caller in
            let result = try await operations.act(step, on: reference, by: caller)
            if options.output.json {
                try OutputOptions.printJSON(ActionView(result, for: caller.actor))
                return
            }
            print("\(result.request.number): \(result.transition.from.rawValue) → \(result.transition.to.rawValue)")
            if let password = result.temporaryPassword, let expires = result.temporaryPasswordExpiresAt {
                print("temporary password for \(result.request.subjectUserID ?? "?") (tell the requester; shown once): \(password.reveal)")
                print("expires at \(ISO8601DateFormatter().string(from: expires))")
            }
            if let half = result.firstHalf, let sentTo = result.secondHalfSentTo {
                print("first half of the temporary password (tell the requester; shown once): \(half)")
                print("the second half went sealed to the e-mail on file, \(sentTo)")
            }
            if let userID = result.disclosedUserID { print("user ID: \(userID)") }
            let next = result.request.allowedActions.map(\.description).joined(separator: "; ")
            print("next: \(next.isEmpty ? "nothing (archived)" : next)")
        }
    }
}

/// The argument every step takes.
struct RequestReference: ParsableArguments {
    @Argument(help: "The request: its id or REQ-YYYY-NNNNNN number.") var request: String
}
