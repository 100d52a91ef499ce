import ArgumentParser
import Operations
import Foundation
import Gate

struct RequestAttachCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach",
        abstract: "Attach a scanned document (PDF, JPEG or PNG) to a request.",
        discussion: """
            Example:
              spse-accounts request attach REQ-2026-000042 --type sk_pengangkatan scans/sk.pdf
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @OptionGroup var reference: RequestReference
    @Option(help: "surat_permohonan, sk_pengangkatan or other.") var type: String
    @Argument(help: "The file.") var file: String

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
        let mediaType = switch (file as NSString).pathExtension.lowercased() {
        case "pdf": "application/pdf"
        case "jpg", "jpeg": "image/jpeg"
        case "png": "image/png"
        default: "application/octet-stream"
        }
        try await options.run { operations, caller in
            let info = try await operations.addDocument(
                DocumentForm(type: type, fileName: (file as NSString).lastPathComponent, mediaType: mediaType, content: Array(data)),
                to: reference.request, by: caller)
            if options.output.json {
                try OutputOptions.printJSON(info)
            } else {
                print("attached \(info.fileName) as \(info.type.rawValue) to \(reference.request) (sha256 \(info.sha256Hex))")
            }
        }
    }
}
