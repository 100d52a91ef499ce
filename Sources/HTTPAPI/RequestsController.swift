import Accounts
import Foundation
import Gate
import Hummingbird

/// `/v1/requests`: SOP 004 over HTTP — submit, documents, one route per step, export.
struct RequestsController: Sendable {
    let gate: GateService

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




    struct CompletenessBody: Decodable { let complete: Bool }
    struct ValidityBody: Decodable {
        let valid: Bool
        let subjectUserID: String?
        let reason: String?
        enum CodingKeys: String, CodingKey { case valid, subjectUserID = "subject_user_id", reason }
    }
    struct Empty: Decodable {}

    static let operators: Set<Role> = [.adminPPE, .stafAdministrasi]
    /// Who may touch a request at all: the operators, and requesters of the managed kinds. The
    /// auditor reads audit and reports only. The role is checked before the body is read.
    static let actors: Set<Role> = [.adminPPE, .stafAdministrasi, .helpdesk, .adminAgency, .verifikator]

    func addRoutes(to router: Router<APIContext>) {
        let group = router.group("v1/requests")
        group.post { request, context -> JSONResponse<RequestView> in
            // Staf Administrasi enters paper files; a logged-in helpdesk (or agency admin, verifikator) may file their own.
            let session = try context.require(Self.actors.subtracting([.adminPPE]))
            let body = try await request.decodeStrict(SubmitBody.self, fields: [
                "kinds", "subject", "subject_role", "requester_name", "requester_contact", "channel", "priority",
            ], limit: context.jsonBodyLimit)
            guard let channel = SubmissionChannel(rawValue: body.channel) else { throw APIError.badRequest("channel must be hardcopy or email") }
            let priority = try body.priority.map { text -> Priority in
                guard let priority = Priority(rawValue: text) else { throw APIError.badRequest("priority must be low, normal, high or urgent") }
                return priority
            } ?? .normal
            let new = NewRequest(
                kinds: try RequestKinds(names: body.kinds), subject: body.subject, subjectRole: try Role(parsing: body.subjectRole ?? "helpdesk"),
                requesterName: body.requesterName, requesterContact: body.requesterContact, channel: channel, priority: priority)
            let created = try await gate.submit(new, by: Self.actor(session))
            return JSONResponse(RequestView(created, allowed: created.allowedActions), status: .created)
        }
        group.get { request, context -> JSONResponse<[QueueView]> in
            _ = try context.require(Self.operators)
            let state = request.uri.queryParameters["state"].map(String.init)
            let due = request.uri.queryParameters["due"].map(String.init)
            if let state, RequestState(rawValue: state) == nil { throw APIError.badRequest("unknown state \(state)") }
            if let due, due != "overdue", due != "open" { throw APIError.badRequest("due must be overdue or open") }
            let entries = try await gate.queue().filter { entry in
                (state == nil || entry.state.rawValue == state) && (due != "overdue" || entry.isOverdue)
            }
            return JSONResponse(entries.map(QueueView.init))
        }
        group.get(":id") { _, context -> JSONResponse<RequestView> in
            let session = try context.require(Self.actors)
            let found = try await load(context)
            try Self.mayRead(found, session)
            return JSONResponse(RequestView(found, allowed: found.allowedActions, documents: try await gate.documents(of: found.id)))
        }
        group.post(":id/documents") { request, context -> JSONResponse<DocumentInfo> in
            let session = try context.require(Self.actors)
            let found = try await load(context)
            let query = request.uri.queryParameters
            guard let typeText = query["type"], let type = DocumentType(rawValue: String(typeText)) else {
                throw APIError.badRequest("type must be surat_permohonan, sk_pengangkatan or other")
            }
            guard let fileName = request.headers[.init("X-File-Name")!] ?? query["file_name"].map(String.init) else {
                throw APIError.badRequest("name the file with the X-File-Name header or file_name parameter")
            }
            let buffer: ByteBuffer
            do { buffer = try await request.body.collect(upTo: gate.documentLimit) } catch {
                throw GateError.documentRefused("the file is larger than \(gate.documentLimit) bytes")
            }
            let upload = try DocumentUpload(type: type, fileName: fileName, mediaType: request.headers[.contentType] ?? "",
                                            content: Array(buffer.readableBytesView), limit: gate.documentLimit)
            return JSONResponse(try await gate.addDocument(upload, to: found.id, by: Self.actor(session)), status: .created)
        }
        group.get(":id/documents/:docId") { _, context -> Response in
            let session = try context.require(Self.actors)
            let found = try await load(context)
            try Self.mayRead(found, session)
            guard let documentID = context.parameters.get("docId", as: Int64.self) else { throw APIError.badRequest("docId must be a number") }
            let (info, content) = try await gate.document(documentID, of: found.id)
            return Response(status: .ok, headers: [.contentType: info.mediaType, .contentDisposition: "attachment; filename=\"\(info.fileName)\""],
                            body: .init(byteBuffer: ByteBuffer(bytes: content)))
        }
        step(group, "completeness") { request, context in
            let body = try await request.decodeStrict(CompletenessBody.self, fields: ["complete"], limit: context.jsonBodyLimit)
            return (.completeness(complete: body.complete), .init())
        }
        step(group, "validity") { request, context in
            let body = try await request.decodeStrict(ValidityBody.self, fields: ["valid", "subject_user_id", "reason"], limit: context.jsonBodyLimit)
            return (.validity(valid: body.valid, subject: body.subjectUserID), .init(reason: body.reason))
        }
        let bodiless: [(String, GateEvent)] = [
            ("supplement", .supplement), ("execute", .execute), ("notify", .notify), ("confirm-receipt", .confirmReceipt), ("archive", .archive),
        ]
        for (path, gateEvent) in bodiless {
            step(group, path) { request, _ in
                try await Self.requireNoFields(request)
                return (gateEvent, .init())
            }
        }
        group.get(":id/export") { _, context -> Response in
            _ = try context.require(Self.operators)
            let found = try await load(context)
            let tar = try await gate.export(found.id)
            return Response(status: .ok, headers: [.contentType: "application/x-tar", .contentDisposition: "attachment; filename=\"\(found.number).tar\""],
                            body: .init(byteBuffer: ByteBuffer(bytes: tar)))
        }
    }

    /// One route per SOP step; the response of step 6 carries the temporary password once and is never cached.
    /// `event` reads the body (exactly once: a live request body can be read only once).
    private func step(_ group: RouterGroup<APIContext>, _ path: String,
                      _ event: @escaping @Sendable (Request, APIContext) async throws -> (GateEvent, GateService.ActionInput)) {
        group.post(":id/\(path)") { request, context -> Response in
            let session = try context.require(Self.actors)
            let found = try await load(context)
            let (gateEvent, input) = try await event(request, context)
            let result = try await gate.act(gateEvent, on: found.id, by: Self.actor(session), input: input)
            var response = try JSONResponse(ActionView(result)).response(from: request, context: context)
            response.headers[.cacheControl] = "no-store"
            return response
        }
    }

    private func load(_ context: APIContext) async throws -> Gate.Request {
        guard let text = context.parameters.get("id") else { throw APIError.notFound }
        if text.hasPrefix("REQ-") { return try await gate.request(number: text) }
        guard let id = Int64(text), id > 0 else { throw APIError.badRequest("\(text) is neither a request id nor a REQ- number") }
        return try await gate.request(id)
    }

    /// Steps without fields accept no body, or an empty JSON object.
    static func requireNoFields(_ request: Request) async throws {
        let buffer = try await request.body.collect(upTo: 1024)
        guard buffer.readableBytes > 0 else { return }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any], object.isEmpty else {
            throw APIError.badRequest("this step takes no fields; send no body or {}")
        }
    }

    static func actor(_ session: Session) -> Actor { Actor(userID: session.userID.value, role: session.role) }

    /// Operators read every request; a requester reads their own.
    static func mayRead(_ request: Gate.Request, _ session: Session) throws {
        guard operators.contains(session.role) || request.requesterUserID == session.userID.value || request.submittedBy == session.userID.value
        else { throw APIError.forbidden(role: session.role) }
    }
}
