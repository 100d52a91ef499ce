import ArgumentParser
import Audit

struct AuditSealCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal",
        abstract: "Chain the committed audit rows not yet sealed (serve does it continuously; for a deployment run from cron).",
        discussion: """
            Safe beside running instances: one sealer works at a time, the others skip their round.

            Example:
              spse-accounts audit seal
            """
    )

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let pool = database.makePool(try database.settings())
        do {
            let sealed = try await pool.withConnection { try await AuditTrail().seal(on: $0) }
            print("sealed \(sealed) row(s)")
            await pool.shutdown()
        } catch {
            await pool.shutdown()
            throw ExitStatus.fail(error)
        }
    }
}
