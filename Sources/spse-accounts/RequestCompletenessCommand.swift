import ArgumentParser
import Operations
import Gate

struct RequestCompletenessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "completeness",
        abstract: "SOP step 2: the file is complete, or not (staf_administrasi).",
        discussion: """
            Example:
              spse-accounts request completeness REQ-2026-000042 --complete
              spse-accounts request completeness REQ-2026-000042 --incomplete --wanting sk_pengangkatan --note "SK tidak terbaca"
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @OptionGroup var reference: RequestReference
    @Flag(help: "Both documents are there.") var complete = false
    @Flag(help: "Something is missing; the requester is told what.") var incomplete = false
    @Option(help: "A note on what is missing.") var note: String?
    @Option(help: "A document on file that does not do, asked for again (surat_permohonan, sk_pengangkatan, other); repeatable.")
    var wanting: [String] = []

    func run() async throws {
        guard complete != incomplete else { throw ValidationError("give exactly one of --complete or --incomplete") }
        try await RequestStep.run(options, reference.request, .completeness(complete: complete, note: note, wanting: wanting))
    }
}
