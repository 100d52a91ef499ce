import Accounts
import Audit
import Foundation
import Gate
import Inputs

/// A request file as a door received it (SOP step 1).
public struct SubmitForm: Sendable {
    public var kinds: [String]
    public var subject: SubjectHint
    public var subjectRole: String?
    public var requesterName: String
    public var requesterContact: String
    public var channel: String
    public var priority: String?
    /// Filed with the request, all or nothing.
    public var documents: [DocumentForm]
    public init(kinds: [String], subject: SubjectHint, subjectRole: String?, requesterName: String, requesterContact: String,
                channel: String, priority: String?, documents: [DocumentForm] = []) {
        self.documents = documents
        self.kinds = kinds
        self.subject = subject
        self.subjectRole = subjectRole
        self.requesterName = requesterName
        self.requesterContact = requesterContact
        self.channel = channel
        self.priority = priority
    }
}

/// A document as a door received it: the raw bytes with what the sender said they are.
public struct DocumentForm: Sendable {
    public var type: String?
    public var fileName: String?
    public var mediaType: String
    public var content: [UInt8]
    public init(type: String?, fileName: String?, mediaType: String, content: [UInt8]) {
        self.type = type
        self.fileName = fileName
        self.mediaType = mediaType
        self.content = content
    }
}

/// One SOP step as a door received it.
public enum StepForm: Sendable {
    /// `wanting`: document types (`surat_permohonan`, `sk_pengangkatan`, `other`) on file that do not do.
    case completeness(complete: Bool, note: String?, wanting: [String] = [])
    /// `acknowledgement`: why the account is right although the requester's hint differs from it.
    case validity(valid: Bool, subjectUserID: String?, reason: String?, acknowledgement: String? = nil)
    /// Step 8: `channel` phone, in_person, email or letter; `handedAt` ISO 8601, now when absent.
    case handover(channel: String?, recipient: String?, handedAt: String?)
    case notify, supplement, execute, confirmReceipt, archive
    /// Step 6 again: the temporary password was never seen (the answer was lost).
    case reissue
    /// Step 2 for an online filing: `reason` spam or duplicate.
    case dismiss(reason: String?)
}

/// A request with its documents and its record (timeline, notices, hand-over, deviations), for whoever may read it.
public struct RequestDetails: Sendable {
    public let request: Request
    public let documents: [DocumentInfo]
    public let record: RequestRecord
}

/// Queue filters as a door received them.
public struct QueueForm: Sendable {
    public var state: String?
    /// `open` (every open step) or `overdue`.
    public var due: String?
    public init(state: String? = nil, due: String? = nil) {
        self.state = state
        self.due = due
    }
}

extension Operations {
    public func submitRequest(_ form: SubmitForm, by caller: Caller) async throws -> Request {
        try await submitRequest(by: caller) { form }
    }

    /// `form` reads the door's input (a body) only once the caller may submit.
    public func submitRequest(by caller: Caller, _ read: () async throws -> SubmitForm) async throws -> Request {
        try AccessPolicy.require(caller.role, .submitRequests)
        let form = try await read()
        let new = try NewRequest(
            kinds: form.kinds, subject: form.subject, subjectRole: form.subjectRole, requesterName: form.requesterName,
            requesterContact: form.requesterContact, channel: form.channel, priority: form.priority)
        let uploads = try form.documents.map(upload)
        return try await gate.submit(new, documents: uploads, by: caller.actor)
    }

    public func request(_ reference: String, by caller: Caller) async throws -> RequestDetails {
        let request = try await readable(reference, by: caller)
        return RequestDetails(request: request, documents: try await gate.documents(of: request.id), record: try await gate.record(of: request.id))
    }

    /// The caller's own requests (filed by them, for them, or about their account), newest first.
    public func myRequests(by caller: Caller) async throws -> [Request] {
        try await gate.requests(involving: caller.userID.value)
    }

    public func queue(_ form: QueueForm, by caller: Caller) async throws -> [QueueEntry] {
        try AccessPolicy.require(caller.role, .readAllRequests)
        let state = try form.state.map { text throws(InputError) in
            guard let state = RequestState(rawValue: text) else {
                throw InputError(field: "state", reason: "must be one of \(RequestState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return state
        }
        guard form.due == nil || form.due == "open" || form.due == "overdue" else {
            throw InputError(field: "due", reason: "must be open or overdue")
        }
        let overdueOnly = form.due == "overdue"
        return try await gate.queue().filter { (state == nil || $0.state == state) && (!overdueOnly || $0.isOverdue) }
    }

    public func addDocument(_ form: DocumentForm, to reference: String, by caller: Caller) async throws -> DocumentInfo {
        try await addDocument(to: reference, by: caller) { form }
    }

    /// `read` receives the document (up to 10 MiB) only once the caller may see the request.
    public func addDocument(to reference: String, by caller: Caller, _ read: () async throws -> DocumentForm) async throws -> DocumentInfo {
        let request = try await readable(reference, by: caller)
        return try await gate.addDocument(try upload(try await read()), to: request.id, by: caller.actor)
    }

    /// A document as the gate files it: type, name, size and magic bytes checked.
    func upload(_ form: DocumentForm) throws -> DocumentUpload {
        guard let type = form.type.flatMap(DocumentType.init(rawValue:)) else {
            throw InputError(field: "type", reason: "must be surat_permohonan, sk_pengangkatan or other")
        }
        guard let fileName = form.fileName else { throw InputError(field: "file_name", reason: "is required: the document's file name") }
        return try DocumentUpload(type: type, fileName: fileName, mediaType: form.mediaType, content: form.content, limit: gate.documentLimit)
    }

    public func document(_ documentID: String, of reference: String, by caller: Caller) async throws -> (DocumentInfo, [UInt8]) {
        let request = try await readable(reference, by: caller)
        guard let id = Int64(documentID), id > 0 else { throw InputError(field: "docId", reason: "must be a document number") }
        let document = try await gate.document(id, of: request.id)
        try await auditRead("request.document_read", request, by: caller, details: ["document": .int(Int(id)), "sha256": .string(document.0.sha256Hex)])
        return document
    }

    /// Takes one SOP step. Only someone who may see the request learns anything of it: to
    /// anyone else it does not exist. The gate's state machine then judges state, role and
    /// separation of duties before the step's content, and Argon2 runs only after that.
    public func act(_ step: StepForm, on reference: String, by caller: Caller) async throws -> ActionResult {
        try await act(on: reference, by: caller) { step }
    }

    /// `read` reads the step's fields (a body) only once the caller may see the request.
    public func act(on reference: String, by caller: Caller, _ read: () async throws -> StepForm) async throws -> ActionResult {
        // One read: the gate judges the step on the facts that decided the caller may see it.
        let snapshot = try await gate.snapshot(try Self.reference(reference), for: caller.actor)
        let event: GateEvent
        switch try await read() {
        case .completeness(let complete, let note, let wanting):
            let types = try wanting.map { name throws(InputError) in
                guard let type = DocumentType(rawValue: name) else {
                    throw InputError(field: "wanting", reason: "must name surat_permohonan, sk_pengangkatan or other")
                }
                return type
            }
            event = .completeness(complete: complete, note: try FreeText.optional(note, field: "note", maxLength: 2000, multiline: true)?.value,
                                  wanting: types)
        case .validity(let valid, let subject, let reason, let acknowledgement):
            event = .validity(valid: valid, subject: subject, reason: try FreeText.optional(reason, field: "reason", maxLength: 2000, multiline: true)?.value,
                              acknowledgement: try FreeText.optional(acknowledgement, field: "acknowledgement", maxLength: 2000, multiline: true)?.value)
        case .handover(let channel, let recipient, let handedAt):
            guard let channel = channel.flatMap(HandoverChannel.init(rawValue:)) else {
                throw InputError(field: "channel", reason: "must be phone, in_person, email or letter")
            }
            guard let recipient = try FreeText.optional(recipient, field: "recipient")?.value else {
                throw InputError(field: "recipient", reason: "is required: who was told")
            }
            let at = try handedAt.map { text throws(InputError) in try Period.instant(text, field: "handed_at") } ?? clock.now
            event = .handover(Handover(channel: channel, recipient: recipient, handedAt: at))
        case .notify: event = .notify
        case .supplement: event = .supplement
        case .execute:
            // A hijacked session alone resets nobody: step 6 needs a recent second factor.
            try requireStepUp(caller)
            event = .execute
        case .reissue:
            try requireStepUp(caller)
            event = .reissue
        case .confirmReceipt: event = .confirmReceipt
        case .dismiss(let reason):
            guard let reason = reason.flatMap(DismissReason.init(rawValue:)) else {
                throw InputError(field: "reason", reason: "must be spam or duplicate")
            }
            event = .dismiss(reason)
        case .archive: event = .archive
        }
        return try await gate.act(event, on: snapshot, by: caller.actor)
    }

    /// The archive's tar of one request: once archived, for whoever reads every request; before
    /// that, only for an admin_ppe who gives a reason. Either way the export is audited.
    public func exportRequest(_ reference: String, reason: String? = nil, by caller: Caller) async throws -> (Request, [UInt8]) {
        try AccessPolicy.require(caller.role, .readAllRequests)
        let request = try await load(reference)
        let reason = try FreeText.optional(reason, field: "reason", maxLength: 2000, multiline: true)?.value
        if request.state != .archived {
            guard AccessPolicy.allows(caller.role, .manageArchive), reason != nil else { throw GateError.exportBeforeArchive }
            try requireStepUp(caller)
        }
        let tar = try await gate.export(request.id)
        var details: [String: AuditValue] = ["bytes": .int(tar.count), "state": .string(request.state.rawValue)]
        if let reason { details["reason"] = .string(reason) }
        try await auditRead("request.export", request, by: caller, details: details)
        return (request, tar)
    }

    /// Empties the documents of files archived longer ago than the retention setting; audited per file.
    public func purgeDocuments(by caller: Caller) async throws -> [PurgedFile] {
        try AccessPolicy.require(caller.role, .manageArchive)
        try requireStepUp(caller)
        return try await gate.purgeDocuments(olderThan: documentRetention, by: caller.actor)
    }

    /// Rejects the files left incomplete too long, as the service (no caller: a timer or cron runs it).
    @discardableResult
    public func abandonExpiredRequests() async throws -> [String] {
        try await gate.abandonExpired()
    }

    /// A read that hands out a request's documents leaves its audit row (who, which, when).
    func auditRead(_ action: String, _ request: Request, by caller: Caller, details: [String: AuditValue]) async throws {
        try await pool.withTransaction { connection in
            try await audit.record(
                AuditEvent(occurredAt: clock.now, actor: caller.userID.value, action: action, subject: request.number, requestID: request.number,
                           details: details),
                on: connection)
        }
    }

    /// The request, if the caller may see it; otherwise `requestNotFound`, exactly as for a
    /// request that does not exist.
    func readable(_ reference: String, by caller: Caller) async throws -> Request {
        let request = try await load(reference)
        guard GateService.mayRead(request, caller.actor) else { throw GateError.requestNotFound }
        return request
    }

    /// A request by id (`42`) or number (`REQ-2026-000042`).
    func load(_ reference: String) async throws -> Request {
        switch try Self.reference(reference) {
        case .number(let number): return try await gate.request(number: number)
        case .id(let id): return try await gate.request(id)
        }
    }

    static func reference(_ reference: String) throws(InputError) -> RequestReference {
        let text = reference.uppercased()
        if text.hasPrefix("REQ-") {
            let digits = Array(text.utf8.dropFirst(4))
            guard digits.count == 11, digits[4] == UInt8(ascii: "-"),
                  digits.enumerated().allSatisfy({ $0.offset == 4 || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0.element) }) else {
                throw InputError(field: "id", reason: "must be a request id or a REQ-YYYY-NNNNNN number")
            }
            return .number(text)
        }
        guard let id = Int64(text), id > 0 else { throw InputError(field: "id", reason: "must be a request id or a REQ-YYYY-NNNNNN number") }
        return .id(id)
    }
}

/// The request list's filters as a door received them (query string, form, flags).
public struct RequestSearchForm: Sendable {
    public var state: String?
    public var step: String?
    public var holder: String?
    public var overdue: String?
    public var text: String?
    public var page: String?
    public init(state: String? = nil, step: String? = nil, holder: String? = nil, overdue: String? = nil, text: String? = nil, page: String? = nil) {
        self.state = state
        self.step = step
        self.holder = holder
        self.overdue = overdue
        self.text = text
        self.page = page
    }
}

extension Operations {
    /// Every request, newest first, by state, step due, the role holding it, overdue, and a text
    /// (number, requester, account): for those who read every request. The managed roles have
    /// `myRequests`.
    public func searchRequests(_ form: RequestSearchForm, by caller: Caller) async throws -> (entries: [RequestListEntry], more: Bool) {
        try AccessPolicy.require(caller.role, .readAllRequests)
        func nonEmpty(_ text: String?) -> String? { text.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 } }
        let state = try nonEmpty(form.state).map { text throws(InputError) in
            guard let state = RequestState(rawValue: text) else {
                throw InputError(field: "state", reason: "must be one of \(RequestState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return state
        }
        let step = try nonEmpty(form.step).map { text throws(InputError) in
            guard text.count <= 2, let step = Int(text), (1...9).contains(step) else { throw InputError(field: "step", reason: "must be a step from 1 to 9") }
            return step
        }
        let holders = ["requester"] + Role.allCases.map(\.rawValue)
        let holder = try nonEmpty(form.holder).map { text throws(InputError) in
            guard holders.contains(text) else { throw InputError(field: "holder", reason: "must be one of \(holders.joined(separator: ", "))") }
            return text
        }
        guard [nil, "true", "false"].contains(nonEmpty(form.overdue)) else { throw InputError(field: "overdue", reason: "must be true or false") }
        let text = try FreeText.optional(nonEmpty(form.text), field: "q", maxLength: 100)?.value
        return try await gate.search(RequestSearch(state: state, step: step, holder: holder, overdueOnly: nonEmpty(form.overdue) == "true",
                                                  text: text, page: try Page(parsing: nonEmpty(form.page))))
    }
}
