import ArgumentParser
import Gate
import Operations

struct RequestHandoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handover",
        abstract: "SOP step 8: record that you told the helpdesk the temporary password or user ID (admin_ppe).",
        discussion: """
            Step 8 ends here, not when the notice is queued: the notice is its evidence, and is \
            queued now if `notify` has not queued it yet.

            Example:
              spse-accounts request handover REQ-2026-000042 --channel phone --recipient "Sekar Ayu" --at 2026-11-25T09:12:00+07:00
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @OptionGroup var reference: RequestReference
    @Option(help: "How: phone, in_person, email or letter.") var channel: String
    @Option(help: "Whom you told.") var recipient: String
    @Option(help: "When (ISO 8601; default: now). Not before the execution, not in the future.") var at: String?

    func run() async throws {
        try await RequestStep.run(options, reference.request, .handover(channel: channel, recipient: recipient, handedAt: at))
    }
}

struct RequestAbandonExpiredCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abandon-expired",
        abstract: "Reject, as the service, every file left incomplete longer than SPSE_ABANDON_AFTER_DAYS (default 14).",
        discussion: """
            `serve` does this every minute; this command is for a cron job on a site that runs \
            no server. Each rejection queues its notice and is audited under "(system)". Runs with \
            the database's credentials (PG* variables), like `migrate`.
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        do {
            let numbers = try await database.withGraph { try await $0.operations.abandonExpiredRequests() }
            if output.json { try OutputOptions.printJSON(["abandoned": numbers]) } else {
                print(numbers.isEmpty ? "no file left incomplete past its limit" : "rejected: \(numbers.joined(separator: ", "))")
            }
        } catch {
            throw ExitStatus.fail(error, json: output.json)
        }
    }
}

struct RequestPurgeDocumentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge-documents",
        abstract: "Purge the documents of files archived longer ago than SPSE_DOCUMENT_RETENTION_DAYS (admin_ppe).",
        discussion: """
            The request, its timeline, each document's name, size and SHA-256, and the audit trail \
            stay; only the documents' content goes. One audit row per file.
            """
    )

    @OptionGroup var options: OperatorCommandOptions

    func run() async throws {
        try await options.run { operations, caller in
            let purged = try await operations.purgeDocuments(by: caller)
            if options.output.json { try OutputOptions.printJSON(purged) } else {
                if purged.isEmpty { print("nothing past the retention period") }
                for file in purged { print("\(file.request): \(file.documents) document(s), \(file.bytes) bytes purged") }
            }
        }
    }
}
