import DoorKit
import Foundation
import Gate
import Hummingbird
import Operations

/// `/v1/public/requests`: the public door of SOP 004 for a requester who cannot sign in — file a
/// request with both documents (multipart), follow it, and send the supplement, with the request
/// number and the tracking code (header `X-Tracking-Code`). No session, never an account.
struct PublicController: Sendable {
    let operations: Operations

    struct ReceiptView: Encodable, Sendable {
        let number: String
        let trackingCode: String
        let filedAt: Date
        enum CodingKeys: String, CodingKey { case number, trackingCode = "tracking_code", filedAt = "filed_at" }
    }

    struct StatusView: Encodable, Sendable {
        let number: String
        let state: String
        let kinds: [String]
        let filedAt: Date
        let dueStep: Int?
        let dueBy: Date?
        let missingDocuments: [String]
        let rejectionReason: String?
        let completenessNote: String?
        let maySupplement: Bool
        enum CodingKeys: String, CodingKey {
            case number, state, kinds, filedAt = "filed_at", dueStep = "due_step", dueBy = "due_by", missingDocuments = "missing_documents"
            case rejectionReason = "rejection_reason", completenessNote = "completeness_note", maySupplement = "may_supplement"
        }
        init(_ status: PublicStatus) {
            number = status.number
            state = status.state.rawValue
            kinds = status.kinds
            filedAt = status.filedAt
            dueStep = status.dueStep
            dueBy = status.dueBy
            missingDocuments = status.missing.map(\.rawValue)
            rejectionReason = status.rejectionReason
            completenessNote = status.completenessNote
            maySupplement = status.maySupplement
        }
    }

    func addRoutes(to router: Router<DoorContext>) {
        let group = router.group("v1/public/requests")
        group.post { request, context -> Response in
            let receipt = try await operations.filePublicRequest(from: context.remoteAddress) {
                let form = try await multipart(request)
                func document(_ name: String) -> DocumentForm? {
                    form.part(name).map { DocumentForm(type: name, fileName: $0.fileName, mediaType: $0.contentType ?? "", content: $0.body) }
                }
                let kinds = form.parts.filter { $0.name == "kinds" }.flatMap { $0.text.split(separator: ",").map(String.init) }
                return PublicFilingForm(
                    kinds: kinds, fullName: form.text("full_name"), nip: form.text("nip"), userID: form.text("user_id"), email: form.text("email"),
                    phone: form.text("phone"), agency: form.text("agency"), role: form.text("role"),
                    requestLetter: document("surat_permohonan"), appointmentDecree: document("sk_pengangkatan"))
            }
            return try AuthController.secret(JSONResponse(ReceiptView(number: receipt.number, trackingCode: receipt.trackingCode, filedAt: receipt.filedAt),
                                                          status: .created), request, context)
        }
        group.get(":number") { request, context -> Response in
            let status = try await operations.trackPublicRequest(
                context.parameters.get("number") ?? "", code: request.headers[.init("X-Tracking-Code")!], from: context.remoteAddress)
            return try AuthController.secret(JSONResponse(StatusView(status)), request, context)
        }
        group.post(":number/supplement") { request, context -> Response in
            let status = try await operations.supplementPublicRequest(
                context.parameters.get("number") ?? "", code: request.headers[.init("X-Tracking-Code")!], from: context.remoteAddress) {
                let form = try await multipart(request)
                return ["surat_permohonan", "sk_pengangkatan"].compactMap { name in
                    form.part(name).map { DocumentForm(type: name, fileName: $0.fileName, mediaType: $0.contentType ?? "", content: $0.body) }
                }
            }
            return try AuthController.secret(JSONResponse(StatusView(status)), request, context)
        }
    }

    /// The multipart body, up to two documents and the fields; anything else is refused whole.
    func multipart(_ request: Request) async throws -> MultipartForm {
        let contentType = request.headers[.contentType]
        guard MultipartForm.accepts(contentType) else { throw DoorError.badRequest("send multipart/form-data") }
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: 2 * operations.documentLimit + 64 * 1024) } catch {
            throw GateError.documentRefused("the files are larger than \(operations.documentLimit) bytes each")
        }
        return try MultipartForm(buffer, contentType: contentType ?? "")
    }
}
