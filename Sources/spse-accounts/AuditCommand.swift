import ArgumentParser
import Audit
import Foundation

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check and export the audit trail.",
        subcommands: [AuditVerifyCommand.self, AuditSealCommand.self, AuditExportCommand.self, AuditCheckpointCommand.self]
    )
}
