import Accounts
import ArgumentParser
import Operations
import Foundation
import Provisioning

struct ProvisionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provision",
        abstract: "Create accounts in bulk from a CSV or JSON Lines file (admin_ppe); all rows or none.",
        discussion: """
            Columns: user_id, role, full_name, nip, email, agency (CSV: header required, UTF-8 with \
            or without BOM, quoted fields may hold commas). Roles: helpdesk, admin_agency, \
            verifikator, auditor. NIP may be empty.

            Every bad row is reported (line, column, rule) and then nothing is written. Rows already \
            provisioned identically are `unchanged`: re-running a file creates only what is missing, \
            also after a run was killed. Each new account gets a temporary password that must be \
            changed at first login; they are written only to --credentials-out (a new file, mode \
            0600; never overwritten), or to stdout with `--credentials-out -`.

            Examples:
              spse-accounts provision accounts.csv --dry-run
              spse-accounts provision accounts.csv --credentials-out /secure/batch-2026-11.csv
              spse-accounts provision accounts.jsonl --format jsonl --credentials-out - --json > credentials.csv

            \(ExitStatus.documentation)
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @Argument(help: "The batch file (- for stdin).") var file: String
    @Option(help: "csv or jsonl (default: from the file name).") var format: BatchFormat?
    @Flag(help: "Validate against the database and write nothing.") var dryRun = false
    @Option(help: ArgumentHelp("Where the new accounts' temporary passwords go: a new file (mode 0600), or - for stdout.", valueName: "path"))
    var credentialsOut: String?

    func validate() throws {
        if format == nil && file != "-" && BatchFormat(fileName: file) == nil {
            throw ValidationError("cannot tell the format from \(file); give --format csv or --format jsonl")
        }
        if file == "-" && format == nil { throw ValidationError("reading stdin needs --format csv or --format jsonl") }
    }

    func run() async throws {
        guard let batchFormat = format ?? BatchFormat(fileName: file) else { throw ValidationError("name the format with --format csv or --format jsonl") }
        let bytes: [UInt8]
        if file == "-" {
            bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
        } else {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            bytes = Array(data)
        }
        let destination: CredentialsDestination = switch credentialsOut {
        case nil: .none
        case "-": .returned
        case let path?: .file(URL(fileURLWithPath: path).standardizedFileURL.path)
        }
        // stdout belongs to the credentials when they go there; the summary moves to stderr.
        let summaryToStderr = destination == .returned
        try await options.run { operations, caller in
            let progress = ProgressDisplay(useBar: !summaryToStderr && !options.output.json && isatty(STDOUT_FILENO) == 1)
            let report: BatchReport
            do {
                report = try await operations.provision(bytes, format: batchFormat, dryRun: dryRun, credentialsTo: destination, by: caller,
                                                        progress: { progress.update($0) })
                progress.finish(succeeded: true)
            } catch {
                progress.finish(succeeded: false)
                throw error
            }
            if let credentials = report.credentials {
                print("user_id,temporary_password,expires_at")
                for credential in credentials {
                    print("\(credential.userID),\(credential.temporaryPassword),\(ISO8601DateFormatter().string(from: credential.expiresAt))")
                }
            }
            let summary = try Self.summary(report, json: options.output.json)
            if summaryToStderr { ExitStatus.printError(summary) } else { print(summary) }
        }
    }

    /// The report without its passwords: as JSON, or as lines for a person.
    static func summary(_ report: BatchReport, json: Bool) throws -> String {
        let withoutSecrets = report.withoutCredentials
        if json {
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: try encoder.encode(withoutSecrets), as: UTF8.self)
        }
        var lines: [String] = []
        if let recovered = report.recoveredCredentials { lines.append("earlier run: \(recovered)") }
        if report.dryRun {
            let wouldCreate = report.rows.filter { $0.outcome == .wouldCreate }.count
            lines.append("dry run: \(report.rows.count) rows valid; \(wouldCreate) would be created, \(report.unchanged) unchanged; nothing written")
        } else {
            lines.append("batch \(report.batchID.map(String.init) ?? "-"): \(report.created) created, \(report.unchanged) unchanged (file sha256 \(report.fileSHA256))")
            if let path = report.credentialsOut {
                lines.append("temporary passwords: \(path) (mode 0600); they expire \(report.expiresAt.map { ISO8601DateFormatter().string(from: $0) } ?? "-")")
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension BatchFormat: ExpressibleByArgument {}
