import Accounts
import ArgumentParser
import Operations
import Audit
import Foundation

struct AuditExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the audit rows of a period as JSON Lines (admin_ppe or auditor); the export itself is audited.",
        discussion: """
            Examples:
              spse-accounts audit export --from 2026-11-01 --to 2026-11-30 > audit-2026-11.jsonl
              spse-accounts audit export --action provisioning.batch --out batches.jsonl
              spse-accounts audit export --action login --subject helpdesk01   # every login.* about one account
              spse-accounts audit export --request REQ-2026-000042
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @Option(help: "Start (ISO 8601 date or instant; default: 30 days before --to).") var from: String?
    @Option(help: "End: an instant (exclusive) or a date (included whole); default now.") var to: String?
    @Option(help: "Only rows of this actor.") var actor: String?
    @Option(help: "Only rows of this action (e.g. password.reset) or family (login: login.success, login.failure, …).") var action: String?
    @Option(help: "Only rows about this account or request.") var subject: String?
    @Option(help: "Only rows under this request number.") var request: String?
    @Option(help: "Write to this new file (mode 0600) instead of stdout.") var out: String?

    func run() async throws {
        if let out, FileManager.default.fileExists(atPath: out) { throw ValidationError("\(out) exists already") }
        try await options.run { operations, caller in
            let records = try await operations.auditRecords(
                AuditForm(period: PeriodForm(from: from, to: to), actor: actor, action: action, subject: subject, request: request), limit: 10_000_000, export: true, by: caller)
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.sortedKeys]
            var text = ""
            for record in records { text += String(decoding: try encoder.encode(record), as: UTF8.self) + "\n" }
            if let out {
                guard FileManager.default.createFile(atPath: out, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                    throw ValidationError("cannot write \(out)")
                }
                ExitStatus.printError("wrote \(records.count) audit rows to \(out)")
            } else {
                print(text, terminator: "")
            }
        }
    }
}
