import Accounts
import ArgumentParser
import Audit
import Foundation

struct AuditExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the audit rows of a period as JSON Lines (admin_ppe or auditor); the export itself is audited.",
        discussion: """
            Examples:
              spse-accounts audit export --from 2026-11-01 --to 2026-12-01 > audit-2026-11.jsonl
              spse-accounts audit export --action provisioning.batch --out batches.jsonl
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @Option(help: "Start (ISO 8601 date or instant; default: 30 days before --to).") var from: String?
    @Option(help: "End, exclusive (default: now).") var to: String?
    @Option(help: "Only rows of this actor.") var actor: String?
    @Option(help: "Only rows of this action (e.g. password.reset).") var action: String?
    @Option(help: "Write to this new file (mode 0600) instead of stdout.") var out: String?

    func run() async throws {
        let (start, end) = try Period.parse(from: from, to: to)
        if let out, FileManager.default.fileExists(atPath: out) { throw ValidationError("\(out) exists already") }
        try await options.run { services, operatorActor in
            guard [.adminPPE, .auditor].contains(operatorActor.role) else {
                throw AccountsError.notPermitted(role: operatorActor.role, operation: "export the audit trail")
            }
            let records = try await services.pool.withTransaction { connection in
                let records = try await AuditTrail().list(from: start, to: end, actor: actor, action: action, limit: 10_000_000, on: connection)
                try await AuditTrail().record(
                    AuditEvent(occurredAt: Date(), actor: operatorActor.userID.value, action: "audit.export",
                               details: ["from": .string(ISO8601DateFormatter().string(from: start)), "to": .string(ISO8601DateFormatter().string(from: end)),
                                         "rows": .int(records.count)]),
                    on: connection)
                return records
            }
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

/// `--from`/`--to` as ISO 8601 instants or dates; default: the last 30 days.
enum Period {
    static func parse(from: String?, to: String?) throws -> (Date, Date) {
        func date(_ text: String?, _ name: String) throws -> Date? {
            guard let text else { return nil }
            if let instant = ISO8601DateFormatter().date(from: text) { return instant }
            let dateOnly = ISO8601DateFormatter()
            dateOnly.formatOptions = [.withFullDate]
            if let day = dateOnly.date(from: text) { return day }
            throw ValidationError("--\(name) must be an ISO 8601 date or instant, not \(text)")
        }
        let end = try date(to, "to") ?? Date()
        let start = try date(from, "from") ?? end.addingTimeInterval(-30 * 86_400)
        guard start < end else { throw ValidationError("--from must be before --to") }
        return (start, end)
    }
}
