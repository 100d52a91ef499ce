import Accounts
import Audit
import Foundation
import Postgres

/// Test seam for crash tests: runs inside the step-6 transaction after the reset/disclosure and
/// before the request is marked executed.
public struct GateHooks: Sendable {
    public var afterExecuteEffect: @Sendable (PostgresConnection) async throws -> Void
    public init(afterExecuteEffect: @escaping @Sendable (PostgresConnection) async throws -> Void = { _ in }) {
        self.afterExecuteEffect = afterExecuteEffect
    }
}

/// SOP 004 as a service: requests, their documents and their steps. Each action loads the request
/// under a row lock, asks `RequestStateMachine`, and performs its effects, the SLA clock, the
/// notice and the audit row in one transaction — so a reset never happens without its step, nor
/// the reverse, and concurrent actions on one request take turns.
public struct GateService: Sendable {
    let pool: ConnectionPool
    let credentials: Credentials
    let audit: AuditTrail
    let clock: ServiceClock
    public let documentLimit: Int
    let hooks: GateHooks

    public init(pool: ConnectionPool, credentials: Credentials, audit: AuditTrail, clock: ServiceClock,
                documentLimit: Int = 10 * 1024 * 1024, hooks: GateHooks = GateHooks()) {
        self.pool = pool
        self.credentials = credentials
        self.audit = audit
        self.clock = clock
        self.documentLimit = documentLimit
        self.hooks = hooks
    }

    static let managedRoles: Set<Role> = [.helpdesk, .adminAgency, .verifikator, .auditor]

    // MARK: Step 1

    /// Step 1: a helpdesk (or another managed user) submits for themself, or Staf Administrasi
    /// enters a file handed in on paper.
    public func submit(_ new: NewRequest, by actor: Actor) async throws -> Request {
        guard actor.role == .stafAdministrasi || Self.managedRoles.contains(actor.role) else {
            throw GateError.notPermitted(role: actor.role, action: .completeness)
        }
        guard Self.managedRoles.contains(new.subjectRole) else {
            throw GateError.invalidInput("requests concern helpdesk, admin_agency, verifikator or auditor accounts")
        }
        let name = new.requesterName.trimmingCharacters(in: .whitespacesAndNewlines)
        let contact = new.requesterContact.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(name.count), (1...200).contains(contact.count) else {
            throw GateError.invalidInput("the requester's name and contact are required (1–200 characters)")
        }
        let hint = new.subject
        guard [hint.userID, hint.fullName, hint.nip, hint.email].contains(where: { !($0 ?? "").isEmpty }) else {
            throw GateError.invalidInput("say what is known of the account: user ID, name, NIP or e-mail")
        }
        let requester = Self.managedRoles.contains(actor.role) ? actor.userID : hint.userID.flatMap { try? UserID($0).value }
        let now = clock.now
        return try await pool.withTransaction { connection in
            let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "Asia/Jakarta")!, from: now).year!
            let counter = try await connection.query(
                """
                INSERT INTO request_counters (year, last) VALUES ($1, 1)
                ON CONFLICT (year) DO UPDATE SET last = request_counters.last + 1 RETURNING last
                """, [year])
            let number = String(format: "REQ-%04d-%06d", year, try counter.first!.decode(Int.self, at: 0))
            let rows = try await connection.query(
                """
                INSERT INTO requests (number, kinds, state, subject_role, subject_hint, requester_user_id, requester_name,
                                      requester_contact, channel, priority, submitted_by, created_at, updated_at)
                VALUES ($1, string_to_array($2, ','), 'submitted', $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id
                """,
                [number, new.kinds.names.joined(separator: ","), new.subjectRole.rawValue, JSONB(hint), requester, name, contact,
                 new.channel.rawValue, new.priority.rawValue, actor.userID, now])
            let id = try rows.first!.decode(Int64.self, at: 0)
            try await connection.execute(
                "INSERT INTO request_steps (request_id, step, started_at, ended_at, actor, outcome) VALUES ($1, 1, $2, $2, $3, 'submitted')",
                [id, now, actor.userID])
            try await connection.execute("INSERT INTO request_steps (request_id, step, started_at) VALUES ($1, 2, $2)", [id, now])
            try await audit.record(
                AuditEvent(occurredAt: now, actor: actor.userID, action: "request.submit", subject: number, requestID: number,
                           details: ["kinds": .strings(new.kinds.names), "channel": .string(new.channel.rawValue)]),
                on: connection)
            return try await Self.load(id, on: connection)
        }
    }

    // MARK: Documents

    /// Adds a document to the file while it is open for documents (before the completeness check,
    /// or while a supplement is awaited), by Staf Administrasi or the requester.
    public func addDocument(_ upload: DocumentUpload, to requestID: Int64, by actor: Actor) async throws -> DocumentInfo {
        let now = clock.now
        return try await pool.withTransaction { connection in
            let request = try await Self.load(requestID, lock: true, on: connection)
            guard [.submitted, .awaitingSupplement].contains(request.state) else {
                throw GateError.wrongState(current: request.state, allowed: RequestStateMachine.allowed(in: try await facts(request, on: connection)))
            }
            guard actor.role == .stafAdministrasi || actor.userID == request.requesterUserID || actor.userID == request.submittedBy else {
                throw GateError.notPermitted(role: actor.role, action: .supplement)
            }
            let rows = try await connection.query(
                """
                INSERT INTO request_documents (request_id, type, file_name, media_type, size, sha256, content, uploaded_by, uploaded_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id
                """,
                [requestID, upload.type.rawValue, upload.fileName, upload.mediaType, upload.content.count, upload.sha256,
                 upload.content, actor.userID, now])
            let id = try rows.first!.decode(Int64.self, at: 0)
            let hex = upload.sha256.map { String(format: "%02x", $0) }.joined()
            try await audit.record(
                AuditEvent(occurredAt: now, actor: actor.userID, action: "request.document", subject: request.number, requestID: request.number,
                           details: ["type": .string(upload.type.rawValue), "file_name": .string(upload.fileName),
                                     "size": .int(upload.content.count), "sha256": .string(hex)]),
                on: connection)
            return DocumentInfo(id: id, type: upload.type, fileName: upload.fileName, mediaType: upload.mediaType, size: upload.content.count,
                                sha256Hex: hex, uploadedBy: actor.userID, uploadedAt: now)
        }
    }

    /// The documents of a request, without content.
    public func documents(of requestID: Int64) async throws -> [DocumentInfo] {
        try await pool.withConnection { connection in
            try await Self.documents(of: requestID, on: connection)
        }
    }

    /// One document with its content.
    public func document(_ documentID: Int64, of requestID: Int64) async throws -> (DocumentInfo, [UInt8]) {
        try await pool.withConnection { connection in
            let rows = try await connection.query(
                "SELECT \(Self.documentColumns), content FROM request_documents WHERE id = $1 AND request_id = $2", [documentID, requestID])
            guard let row = rows.first else { throw GateError.documentNotFound }
            return (try Self.decodeDocument(row), try row.decode([UInt8].self, at: 8))
        }
    }

    // MARK: Loading

    static let requestColumns = """
        r.id, r.number, array_to_string(r.kinds, ','), r.state, r.subject_role, r.subject_hint::text, a.user_id, r.requester_user_id,
        r.requester_name, r.requester_contact, r.channel, r.priority, r.submitted_by, r.completeness_checked_by,
        array_to_string(r.missing_documents, ','), r.validated_by, r.rejection_reason, r.executed_by, r.disclosed_user_id,
        r.receipt_confirmed_at, r.created_at, r.updated_at, r.subject_account_id
        """

    public func request(_ id: Int64) async throws -> Request {
        try await pool.withConnection { try await Self.load(id, on: $0) }
    }

    /// The request with this number (`REQ-2026-000123`).
    public func request(number: String) async throws -> Request {
        try await pool.withConnection { connection in
            let rows = try await connection.query("SELECT id FROM requests WHERE number = $1", [number])
            guard let id = try rows.first?.decode(Int64.self, at: 0) else { throw GateError.requestNotFound }
            return try await Self.load(id, on: connection)
        }
    }

    static func load(_ id: Int64, lock: Bool = false, on connection: PostgresConnection) async throws -> Request {
        let rows = try await connection.query(
            "SELECT \(requestColumns) FROM requests r LEFT JOIN accounts a ON a.id = r.subject_account_id WHERE r.id = $1"
                + (lock ? " FOR UPDATE OF r" : ""), [id])
        guard let row = rows.first else { throw GateError.requestNotFound }
        func list(_ text: String?) -> [String] { (text ?? "").split(separator: ",").map(String.init) }
        return Request(
            id: try row.decode(Int64.self, at: 0), number: try row.decode(String.self, at: 1),
            kinds: try RequestKinds(names: list(try row.decode(String.self, at: 2))),
            state: RequestState(rawValue: try row.decode(String.self, at: 3))!,
            subjectRole: try Role(parsing: try row.decode(String.self, at: 4)),
            subject: try JSONDecoder().decode(SubjectHint.self, from: Data(try row.decode(String.self, at: 5).utf8)),
            subjectUserID: try row.decode(String?.self, at: 6), requesterUserID: try row.decode(String?.self, at: 7),
            requesterName: try row.decode(String.self, at: 8), requesterContact: try row.decode(String.self, at: 9),
            channel: SubmissionChannel(rawValue: try row.decode(String.self, at: 10)) ?? .hardcopy,
            priority: Priority(rawValue: try row.decode(String.self, at: 11)) ?? .normal,
            submittedBy: try row.decode(String.self, at: 12), completenessCheckedBy: try row.decode(String?.self, at: 13),
            missingDocuments: list(try row.decode(String?.self, at: 14)).compactMap(DocumentType.init(rawValue:)),
            validatedBy: try row.decode(String?.self, at: 15), rejectionReason: try row.decode(String?.self, at: 16),
            executedBy: try row.decode(String?.self, at: 17), disclosedUserID: try row.decode(String?.self, at: 18),
            receiptConfirmedAt: try row.decode(Date?.self, at: 19), createdAt: try row.decode(Date.self, at: 20),
            updatedAt: try row.decode(Date.self, at: 21), subjectAccountID: try row.decode(Int64?.self, at: 22))
    }

    static let documentColumns = "id, type, file_name, media_type, size, encode(sha256, 'hex'), uploaded_by, uploaded_at"

    static func documents(of requestID: Int64, on connection: PostgresConnection) async throws -> [DocumentInfo] {
        try await connection.query("SELECT \(documentColumns) FROM request_documents WHERE request_id = $1 ORDER BY id", [requestID])
            .map(decodeDocument)
    }

    static func decodeDocument(_ row: PostgresRow) throws -> DocumentInfo {
        DocumentInfo(
            id: try row.decode(Int64.self, at: 0), type: DocumentType(rawValue: try row.decode(String.self, at: 1)) ?? .other,
            fileName: try row.decode(String.self, at: 2), mediaType: try row.decode(String.self, at: 3),
            size: try row.decode(Int.self, at: 4), sha256Hex: try row.decode(String.self, at: 5),
            uploadedBy: try row.decode(String.self, at: 6), uploadedAt: try row.decode(Date.self, at: 7))
    }

    func facts(_ request: Request, on connection: PostgresConnection) async throws -> RequestFacts {
        let row = try await connection.query(
            """
            SELECT (SELECT coalesce(string_agg(DISTINCT type, ','), '') FROM request_documents WHERE request_id = $1),
                   (SELECT coalesce(string_agg(document_type, ','), '') FROM document_requirements WHERE subject_role = $2)
            """, [request.id, request.subjectRole.rawValue]).first!
        func set(_ text: String) -> Set<DocumentType> { Set(text.split(separator: ",").compactMap { DocumentType(rawValue: String($0)) }) }
        return RequestFacts(
            state: request.state, requester: request.requesterUserID, subject: request.subjectUserID,
            completenessCheckedBy: request.completenessCheckedBy, documents: set(try row.decode(String.self, at: 0)),
            requiredDocuments: set(try row.decode(String.self, at: 1)), receiptConfirmed: request.receiptConfirmedAt != nil)
    }
}
