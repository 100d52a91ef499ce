import ArgumentParser
import Audit
import Foundation

struct AuditVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Seal what is unsealed, recompute the audit trail's hash chain; exit 2 naming the first edited, removed or long-unsealed row.",
        discussion: """
            Example:
              spse-accounts audit verify
              spse-accounts audit verify --json
            """
    )

    @OptionGroup var database: DatabaseOptions
    @Flag(help: "Print one JSON object.") var json = false
    @Option(help: "Also check every checkpoint in this file (from `audit checkpoint`): each checkpointed row must still exist with its hash.")
    var checkpoint: String?
    @Option(help: "The checkpoints' signing key file (its public half is what is trusted).") var key: String?

    func run() async throws {
        if checkpoint != nil, key == nil { throw ValidationError("--checkpoint needs --key: the signature is checked against it") }
        let pool = database.makePool(try database.settings())
        var verification: AuditTrail.Verification
        do {
            // Seals as a sealer would (a deployment run from cron keeps its chain this way), and still
            // reports a row that waited past the bound.
            verification = try await pool.withConnection { try await AuditTrail().sealAndVerify(on: $0) }
            if let checkpoint, let key {
                let publicKey = try AuditSigningKey.load(key).publicKey
                for point in try AuditSigningKey.read(checkpoint) {
                    if let problem = try await pool.withConnection({ try await point.verify(publicKey: publicKey, on: $0) }) {
                        verification = AuditTrail.Verification(rowsChecked: verification.rowsChecked, firstBrokenRow: point.row, reason: problem.description)
                        break
                    }
                }
            }
            await pool.shutdown()
        } catch {
            await pool.shutdown()
            throw ExitStatus.fail(error)
        }
        if json {
            var object: [String: Any] = ["intact": verification.isIntact, "rows_checked": verification.rowsChecked]
            if let row = verification.firstBrokenRow { object["first_broken_row"] = row; object["reason"] = verification.reason ?? "" }
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else if let row = verification.firstBrokenRow {
            print("audit trail BROKEN at row \(row): \(verification.reason ?? "") (\(verification.rowsChecked) rows before it are intact)")
        } else {
            print("audit trail intact: \(verification.rowsChecked) rows")
        }
        if !verification.isIntact { throw ExitCode(ExitStatus.refused) }
    }
}
