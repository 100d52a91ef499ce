import Accounts
import Foundation
import Hummingbird
import Provisioning

/// `POST /v1/provisioning/batches`: the provisioning file as the body (`text/csv` or
/// `application/x-ndjson`), `?dry_run=true` to only validate. The temporary passwords of new
/// accounts are in this one answer, never stored in clear and never sent again.
struct ProvisioningController: Sendable {
    let provisioner: Provisioner
    let bodyLimit: Int

    func addRoutes(to router: Router<APIContext>) {
        router.post("v1/provisioning/batches") { request, context -> Response in
            let session = try context.require([.adminPPE])
            let format = try Self.format(request)
            let dryRun = try Self.flag(request.uri.queryParameters["dry_run"], name: "dry_run")
            let body: ByteBuffer
            do { body = try await request.body.collect(upTo: bodyLimit) } catch {
                throw HTTPError(.contentTooLarge, message: "a provisioning file may be at most \(bodyLimit) bytes; split it")
            }
            let report = try await provisioner.run(
                Array(body.readableBytesView), format: format, dryRun: dryRun, credentialsTo: dryRun ? .none : .returned,
                by: Operator(userID: session.userID, role: session.role))
            var response = try JSONResponse(report, status: dryRun ? .ok : .created).response(from: request, context: context)
            response.headers[.cacheControl] = "no-store"
            return response
        }
    }

    static func format(_ request: Request) throws -> BatchFormat {
        let type = (request.headers[.contentType] ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch type {
        case "text/csv": return .csv
        case "application/x-ndjson", "application/jsonl", "application/jsonlines": return .jsonl
        default: throw APIError.badRequest("Content-Type must be text/csv or application/x-ndjson")
        }
    }

    static func flag(_ value: Substring?, name: String) throws -> Bool {
        switch value {
        case nil, "false", "0": return false
        case "true", "1": return true
        default: throw APIError.badRequest("\(name) must be true or false")
        }
    }
}
