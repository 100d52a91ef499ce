import DoorKit
import Foundation
import Hummingbird
import Operations
import Provisioning

/// `POST /v1/provisioning/batches`: the provisioning file as the body (`text/csv` or
/// `application/x-ndjson`) or as the `file` part of a `multipart/form-data` body, `dry_run` to
/// only validate. The temporary passwords of new accounts are in this one answer, never stored in
/// clear and never sent again.
struct ProvisioningController: Sendable {
    let operations: Operations
    let bodyLimit: Int

    func addRoutes(to router: Router<DoorContext>) {
        router.post("v1/provisioning/batches") { request, context -> Response in
            let report = try await operations.provision(by: try context.caller(), {
                let body: ByteBuffer
                do { body = try await request.body.collect(upTo: bodyLimit) } catch {
                    throw HTTPError(.contentTooLarge, message: "a provisioning file may be at most \(bodyLimit) bytes; split it")
                }
                return try Self.form(body, contentType: request.headers[.contentType], dryRun: try request.form["dry_run"])
            }, credentialsTo: { $0 ? .none : .returned })
            let dryRun = report.dryRun
            var response = try JSONResponse(report, status: dryRun ? .ok : .created).response(from: request, context: context)
            response.headers[.cacheControl] = "no-store"
            return response
        }
    }

    /// The file, its format and the dry-run flag, from a raw body or a multipart form.
    static func form(_ body: ByteBuffer, contentType: String?, dryRun query: String?) throws -> BatchForm {
        guard MultipartForm.accepts(contentType) else {
            return BatchForm(bytes: Array(body.readableBytesView), format: try format(contentType), dryRun: try flag(query, name: "dry_run"))
        }
        let form = try MultipartForm(body, contentType: contentType ?? "")
        guard let file = form.part("file") else { throw DoorError.badRequest("the multipart body needs a file part") }
        let format: BatchFormat
        if let named = form.text("format") {
            guard let parsed = BatchFormat(rawValue: named) else { throw DoorError.badRequest("format must be csv or jsonl") }
            format = parsed
        } else {
            format = (try? Self.format(file.contentType)) ?? file.fileName.flatMap(BatchFormat.init(fileName:)) ?? .csv
        }
        return BatchForm(bytes: file.body, format: format, dryRun: try flag(form.text("dry_run") ?? query, name: "dry_run"))
    }

    static func format(_ contentType: String?) throws -> BatchFormat {
        let type = (contentType ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch type {
        case "text/csv": return .csv
        case "application/x-ndjson", "application/jsonl", "application/jsonlines": return .jsonl
        default: throw DoorError.badRequest("Content-Type must be text/csv, application/x-ndjson or multipart/form-data")
        }
    }

    static func flag(_ value: String?, name: String) throws -> Bool {
        switch value {
        case nil, "false", "0": return false
        case "true", "1": return true
        default: throw DoorError.badRequest("\(name) must be true or false")
        }
    }
}
