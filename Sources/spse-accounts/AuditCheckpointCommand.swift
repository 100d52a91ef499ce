import ArgumentParser
import Audit
import Foundation
import Operations

struct AuditCheckpointCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Sign the audit chain's head with an Ed25519 key kept outside the database, and append it to a file.",
        discussion: """
            Keep the key and the checkpoint file off the database server (or copy the file away):
            `audit verify --checkpoint FILE` then fails when a checkpointed row was removed or
            changed, which the chain alone cannot show for its newest rows. `serve` writes one
            every SPSE_AUDIT_CHECKPOINT_INTERVAL seconds when SPSE_AUDIT_KEY_FILE and
            SPSE_AUDIT_CHECKPOINT_FILE are set.

            Examples:
              spse-accounts audit checkpoint --new-key /etc/spse/audit.key --out /var/lib/spse/checkpoints.jsonl
              spse-accounts audit checkpoint --key /etc/spse/audit.key --out /var/lib/spse/checkpoints.jsonl
            """
    )

    @OptionGroup var database: DatabaseOptions
    @Option(help: "The signing key (a file written by --new-key).") var key: String?
    @Option(help: "Make a new signing key in this file (mode 0600; must not exist) and sign with it.") var newKey: String?
    @Option(help: "Append the checkpoint to this file (JSON Lines) instead of printing it.") var out: String?

    func run() async throws {
        guard (key == nil) != (newKey == nil) else { throw ValidationError("give exactly one of --key or --new-key") }
        if let newKey, FileManager.default.fileExists(atPath: newKey) { throw ValidationError("\(newKey) exists already") }
        let signing = try newKey.map(AuditSigningKey.generate(to:)) ?? AuditSigningKey.load(key ?? "")
        let settings = try database.settings()
        let pool = database.makePool(settings)
        let checkpoint: AuditCheckpoint?
        do {
            checkpoint = try await AuditCheckpointWriter.write(signingWith: signing, to: out, pool: pool)
            await pool.shutdown()
        } catch {
            await pool.shutdown()
            throw ExitStatus.fail(error)
        }
        guard let checkpoint else { throw ExitStatus.fail(AuditCheckpointWriter.Empty()) }
        if out == nil {
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(checkpoint), as: UTF8.self))
        } else {
            ExitStatus.printError("checkpoint of row \(checkpoint.row) appended to \(out ?? "")")
        }
    }
}
