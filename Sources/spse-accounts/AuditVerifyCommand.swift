import ArgumentParser
import Audit
import Foundation

struct AuditVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute the audit trail's hash chain; exit 2 naming the first edited or removed row.",
        discussion: """
            Example:
              spse-accounts audit verify
              spse-accounts audit verify --json
            """
    )

    @OptionGroup var database: DatabaseOptions
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        let pool = database.makePool(try database.settings())
        let verification: AuditTrail.Verification
        do {
            verification = try await pool.withConnection { try await AuditTrail().verify(on: $0) }
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
