import Accounts
import ArgumentParser
import Operations
import Foundation
import Gate

struct RequestExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write an archived request file (request, steps, notices, hand-over, receipt, deviations, documents) as a tar archive.",
        discussion: """
            Example:
              spse-accounts request export REQ-2026-000042 --out REQ-2026-000042.tar
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @OptionGroup var reference: RequestReference
    @Option(help: "The tar file to write (must not exist).") var out: String
    @Option(help: "Why an admin_ppe exports a file that is not archived yet (required then; audited).") var reason: String?

    func run() async throws {
        if FileManager.default.fileExists(atPath: out) { throw ValidationError("\(out) exists already") }
        try await options.run { operations, caller in
            let (request, tar) = try await operations.exportRequest(reference.request, reason: reason, by: caller)
            guard FileManager.default.createFile(atPath: out, contents: Data(tar), attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("cannot write \(out)")
            }
            if options.output.json {
                try OutputOptions.printJSON(["request": request.number, "out": out, "bytes": String(tar.count)])
            } else {
                print("wrote \(out) (\(tar.count) bytes)")
            }
        }
    }
}
