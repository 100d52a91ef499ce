import DoorKit
import Accounts
import Foundation
import Gate
import Hummingbird
import Operations

/// `/v1/requests`: SOP 004 over HTTP — submit, documents, one route per step, export. Each
/// route translates the request into one operation and its result into JSON.
struct RequestsController: Sendable {
    let operations: Operations

    struct SubmitBody: Decodable {
        let kinds: [String]
        let subject: SubjectHint
        let subjectRole: String?
        let requesterName: String
        let requesterContact: String
        let channel: String
        let priority: String?
        enum CodingKeys: String, CodingKey {
            case kinds, subject, subjectRole = "subject_role", requesterName = "requester_name", requesterContact = "requester_contact"
            case channel, priority
        }
    }
    struct CompletenessBody: Decodable {
        let complete: Bool
        let note: String?
        let wanting: [String]?
    }
    struct ValidityBody: Decodable {
        let valid: Bool
        let subjectUserID: String?
        let reason: String?
        let acknowledgement: String?
        enum CodingKeys: String, CodingKey { case valid, subjectUserID = "subject_user_id", reason, acknowledgement }
    }
    struct HandoverBody: Decodable {
        let channel: String?
        let recipient: String?
        let handedAt: String?
        enum CodingKeys: String, CodingKey { case channel, recipient, handedAt = "handed_at" }
    }

    struct DismissBody: Decodable {
        let reason: String?
    }

    func addRoutes(to router: Router<DoorContext>) {
        let group = router.group("v1/requests")
        group.post { request, context -> JSONResponse<RequestView> in
            let created = try await operations.submitRequest(by: try context.caller()) {
                let body = try await request.decodeStrict(SubmitBody.self, fields: [
                    "kinds", "subject", "subject_role", "requester_name", "requester_contact", "channel", "priority",
                ], nested: ["subject": ["user_id", "full_name", "nip", "email", "agency"]], limit: context.jsonBodyLimit)
                return SubmitForm(kinds: body.kinds, subject: body.subject, subjectRole: body.subjectRole, requesterName: body.requesterName,
                                  requesterContact: body.requesterContact, channel: body.channel, priority: body.priority)
            }
            return JSONResponse(RequestView(created, allowed: created.allowedActions), status: .created)
        }
        group.get { request, context -> JSONResponse<[QueueView]> in
            let caller = try context.caller()
            let query = request.form
            let entries = try await operations.queue(QueueForm(state: try query["state"], due: try query["due"]), by: caller)
            return JSONResponse(entries.map(QueueView.init))
        }
        group.get(":id") { _, context -> JSONResponse<RequestView> in
            let found = try await operations.request(try Self.reference(context), by: try context.caller())
            let caller = try context.caller()
            return JSONResponse(RequestView(found.request, allowed: found.request.allowedActions, documents: found.documents, record: found.record,
                                            for: caller.actor))
        }
        group.post(":id/documents") { request, context -> JSONResponse<DocumentInfo> in
            let info = try await operations.addDocument(to: try Self.reference(context), by: try context.caller()) {
                let buffer: ByteBuffer
                // Room for a multipart envelope around the largest document.
                do { buffer = try await request.body.collect(upTo: operations.documentLimit + 64 * 1024) } catch {
                    throw GateError.documentRefused("the file is larger than \(operations.documentLimit) bytes")
                }
                let contentType = request.headers[.contentType]
                guard MultipartForm.accepts(contentType) else {
                    return DocumentForm(
                        type: try request.form["type"],
                        fileName: try request.headers[.init("X-File-Name")!] ?? request.form["file_name"],
                        mediaType: contentType ?? "", content: Array(buffer.readableBytesView))
                }
                let multipart = try MultipartForm(buffer, contentType: contentType ?? "")
                let file = multipart.part("file")
                return DocumentForm(
                    type: try multipart.text("type") ?? request.form["type"], fileName: file?.fileName,
                    mediaType: file?.contentType ?? "", content: file?.body ?? [])
            }
            return JSONResponse(info, status: .created)
        }
        group.get(":id/documents/:docId") { _, context -> Response in
            let (info, content) = try await operations.document(
                context.parameters.get("docId") ?? "", of: try Self.reference(context), by: try context.caller())
            return Response(status: .ok, headers: [.contentType: info.mediaType, .contentDisposition: ContentDisposition.attachment(info.fileName)],
                            body: .init(byteBuffer: ByteBuffer(bytes: content)))
        }
        step(group, "completeness") { request, context in
            let body = try await request.decodeStrict(CompletenessBody.self, fields: ["complete", "note", "wanting"], limit: context.jsonBodyLimit)
            return .completeness(complete: body.complete, note: body.note, wanting: body.wanting ?? [])
        }
        step(group, "validity") { request, context in
            let body = try await request.decodeStrict(
                ValidityBody.self, fields: ["valid", "subject_user_id", "reason", "acknowledgement"], limit: context.jsonBodyLimit)
            return .validity(valid: body.valid, subjectUserID: body.subjectUserID, reason: body.reason, acknowledgement: body.acknowledgement)
        }
        step(group, "dismiss") { request, context in
            let body = try await request.decodeStrict(DismissBody.self, fields: ["reason"], limit: context.jsonBodyLimit)
            return .dismiss(reason: body.reason)
        }
        step(group, "handover") { request, context in
            let body = try await request.decodeStrict(HandoverBody.self, fields: ["channel", "recipient", "handed_at"], limit: context.jsonBodyLimit)
            return .handover(channel: body.channel, recipient: body.recipient, handedAt: body.handedAt)
        }
        let bodiless: [(String, StepForm)] = [
            ("supplement", .supplement), ("execute", .execute), ("reissue", .reissue), ("notify", .notify), ("confirm-receipt", .confirmReceipt), ("archive", .archive),
        ]
        for (path, form) in bodiless {
            step(group, path) { request, _ in
                try await Self.requireNoFields(request)
                return form
            }
        }
        group.get(":id/export") { request, context -> Response in
            let caller = try context.caller()
            let (found, tar) = try await operations.exportRequest(try Self.reference(context), reason: try request.form["reason"], by: caller)
            return Response(status: .ok, headers: [.contentType: "application/x-tar", .contentDisposition: ContentDisposition.attachment("\(found.number).tar")],
                            body: .init(byteBuffer: ByteBuffer(bytes: tar)))
        }
    }

    /// One route per SOP step; the response of step 6 carries the temporary password once and is never cached.
    /// `form` reads the body (exactly once: a live request body can be read only once).
    private func step(_ group: RouterGroup<DoorContext>, _ path: String,
                      _ form: @escaping @Sendable (Request, DoorContext) async throws -> StepForm) {
        group.post(":id/\(path)") { request, context -> Response in
            let result = try await operations.act(on: try Self.reference(context), by: try context.caller()) { try await form(request, context) }
            var response = try JSONResponse(ActionView(result, for: try context.caller().actor)).response(from: request, context: context)
            response.headers[.cacheControl] = "no-store"
            return response
        }
    }

    static func reference(_ context: DoorContext) throws -> String {
        guard let text = context.parameters.get("id") else { throw DoorError.notFound }
        return text
    }

    /// Steps without fields accept no body, or an empty JSON object.
    static func requireNoFields(_ request: Request) async throws {
        let buffer = try await request.body.collect(upTo: 1024)
        guard buffer.readableBytes > 0 else { return }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any], object.isEmpty else {
            throw DoorError.badRequest("this step takes no fields; send no body or {}")
        }
    }
}
