import Accounts
import Audit
import Foundation
import Inputs
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
    let directory: AccountDirectory
    let audit: AuditTrail
    let clock: ServiceClock
    public let documentLimit: Int
    let hooks: GateHooks
    /// How long a file may stay incomplete before the service rejects it.
    public let abandonAfter: TimeInterval
    /// Set when a site splits temporary passwords (sealed delivery): the box that seals the half
    /// that goes by e-mail.
    let sealedDelivery: SecretBox?

    public init(pool: ConnectionPool, credentials: Credentials, audit: AuditTrail, clock: ServiceClock,
                documentLimit: Int = 10 * 1024 * 1024, hooks: GateHooks = GateHooks(), directory: AccountDirectory? = nil,
                abandonAfter: TimeInterval = 14 * 86_400, sealedDelivery: SecretBox? = nil) {
        self.abandonAfter = abandonAfter
        self.sealedDelivery = sealedDelivery
        self.pool = pool
        self.credentials = credentials
        self.directory = directory ?? AccountDirectory(pool: pool, audit: audit, clock: clock)
        self.audit = audit
        self.clock = clock
        self.documentLimit = documentLimit
        self.hooks = hooks
    }

    /// Who may see a request at all: those who read every request, the person who filed it or is
    /// its requester, and the account it was resolved to (who confirms receipt).
    public static func mayRead(_ request: Request, _ actor: Actor) -> Bool {
        RequestStateMachine.mayRead(requester: request.requesterUserID, submittedBy: request.submittedBy, subject: request.subjectUserID, actor)
    }

    /// Who may file documents for a request (Staf Administrasi, who enters paper, or the person
    /// who filed it or is its requester), whatever its state.
    public static func mayFileDocuments(_ request: Request, _ actor: Actor) -> Bool {
        actor.role == .stafAdministrasi || actor.userID == request.requesterUserID || actor.userID == request.submittedBy
    }

    /// Whether documents may be added now: before the completeness check, or while a supplement is awaited.
    public static func isOpenForDocuments(_ state: RequestState) -> Bool { [.submitted, .awaitingSupplement].contains(state) }

    // MARK: Step 1

    /// Step 1: a helpdesk (or another managed user) submits for themself, or Staf Administrasi
    /// enters a file handed in on paper.
    /// `documents` are filed in the same transaction: the request exists with all of them or not at all.
    public func submit(_ new: NewRequest, documents: [DocumentUpload] = [], by actor: Actor) async throws -> Request {
        try AccessPolicy.require(actor.role, .submitRequests)
        let hint = try new.subject.validated()
        let (name, contact) = (try FreeText(new.requesterName, field: "requester_name").value, try FreeText(new.requesterContact, field: "requester_contact").value)
        let requester = AccessPolicy.managedRoles.contains(actor.role) ? actor.userID : hint.userID.flatMap { try? UserID($0).value }
        let now = clock.now
        return try await pool.withTransaction { connection in
            try await insert(new, hint: hint, name: name, contact: contact, requester: requester, by: actor, tracking: nil,
                             documents: documents, at: now, on: connection)
        }
    }

    /// Step 1's rows in the caller's transaction: the numbered request, step 1 done and step 2
    /// open, the audit row, and every document — all or nothing.
    func insert(_ new: NewRequest, hint: SubjectHint, name: String, contact: String, requester: String?, by actor: Actor,
                tracking: [UInt8]?, documents: [DocumentUpload], at now: Date, on connection: PostgresConnection) async throws -> Request {
        let year = Self.jakartaYear(of: now)
        let counter = try await connection.query(
            """
            INSERT INTO request_counters (year, last) VALUES ($1, 1)
            ON CONFLICT (year) DO UPDATE SET last = request_counters.last + 1 RETURNING last
            """, [year])
        let number = String(format: "REQ-%04d-%06d", year, try Self.first(counter).decode(Int.self, column: "last"))
        let rows = try await connection.query(
            """
            INSERT INTO requests (number, kinds, state, subject_role, subject_hint, requester_user_id, requester_name,
                                  requester_contact, channel, priority, submitted_by, created_at, updated_at, tracking_digest)
            VALUES ($1, string_to_array($2, ','), 'submitted', $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12) RETURNING id
            """,
            [number, new.kinds.names.joined(separator: ","), new.subjectRole.rawValue, JSONB(hint), requester, name, contact,
             new.channel.rawValue, new.priority.rawValue, actor.userID, now, tracking])
        let id = try Self.first(rows).decode(Int64.self, column: "id")
        try await connection.execute(
            "INSERT INTO request_steps (request_id, step, started_at, ended_at, actor, outcome) VALUES ($1, 1, $2, $2, $3, 'submitted')",
            [id, now, actor.userID])
        try await connection.execute(Self.openStep, [id, 2, now])
        try await audit.record(
            AuditEvent(occurredAt: now, actor: actor.userID, action: "request.submit", subject: number, requestID: number,
                       details: ["kinds": .strings(new.kinds.names), "channel": .string(new.channel.rawValue)]),
            on: connection)
        for upload in documents {
            _ = try await fileDocument(upload, requestID: id, number: number, by: actor, at: now, on: connection)
        }
        return try await Self.load(id, on: connection)
    }

    // MARK: Documents

    /// Adds a document to the file while it is open for documents (before the completeness check,
    /// or while a supplement is awaited), by Staf Administrasi or the requester.
    public func addDocument(_ upload: DocumentUpload, to requestID: Int64, by actor: Actor) async throws -> DocumentInfo {
        let now = clock.now
        return try await pool.withTransaction { connection in
            let (request, facts) = try await Self.loadFacts(requestID, lock: true, on: connection)
            // Who may file before what state allows: a stranger learns nothing of the request's state.
            guard Self.mayFileDocuments(request, actor) else {
                throw GateError.notPermitted(role: actor.role, action: .supplement)
            }
            guard Self.isOpenForDocuments(request.state) else {
                throw GateError.wrongState(current: request.state, allowed: RequestStateMachine.allowed(in: facts))
            }
            // The request's version moves: a step decided before this document arrived is judged again.
            try await connection.execute("UPDATE requests SET version = version + 1 WHERE id = $1", [requestID])
            return try await fileDocument(upload, requestID: requestID, number: request.number, by: actor, at: now, on: connection)
        }
    }

    /// Files one document with its audit row, in the caller's transaction.
    func fileDocument(_ upload: DocumentUpload, requestID: Int64, number: String, by actor: Actor, at now: Date,
                              on connection: PostgresConnection) async throws -> DocumentInfo {
        let rows = try await connection.query(
            """
            INSERT INTO request_documents (request_id, type, file_name, media_type, size, sha256, content, uploaded_by, uploaded_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id
            """,
            [requestID, upload.type.rawValue, upload.fileName, upload.mediaType, upload.content.count, upload.sha256,
             upload.content, actor.userID, now])
        let id = try Self.first(rows).decode(Int64.self, column: "id")
        let hex = Hex.encode(upload.sha256)
        try await audit.record(
            AuditEvent(occurredAt: now, actor: actor.userID, action: "request.document", subject: number, requestID: number,
                       details: ["type": .string(upload.type.rawValue), "file_name": .string(upload.fileName),
                                 "size": .int(upload.content.count), "sha256": .string(hex)]),
            on: connection)
        return DocumentInfo(id: id, type: upload.type, fileName: upload.fileName, mediaType: upload.mediaType, size: upload.content.count,
                            sha256Hex: hex, uploadedBy: actor.userID, uploadedAt: now)
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
            let info = try Self.decodeDocument(row)
            if info.purgedAt != nil { throw GateError.documentPurged }
            return (info, try row.decode([UInt8].self, column: "content"))
        }
    }

    // MARK: Loading

    /// The row a statement that always returns one returned.
    static func first(_ rows: PostgresRows) throws -> PostgresRow {
        guard let row = rows.first else { throw PostgresError.unexpectedNull(column: "(no row returned)") }
        return row
    }

    /// Request numbers count per year in the LPSE's time zone (WIB).
    static func jakartaYear(of date: Date) -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Jakarta") ?? TimeZone(secondsFromGMT: 7 * 3600) ?? .gmt
        return calendar.component(.year, from: date)
    }

    /// Over `requests r`: whether the step-8 notice is queued (it is step 8's evidence).
    static let noticeQueued = "EXISTS (SELECT 1 FROM outbox o8 WHERE o8.request_id = r.id AND o8.step = 8)"
    /// Over `requests r`: when step 2 last found the file incomplete (the abandonment clock).
    static let incompleteSince =
        "(SELECT max(i2.ended_at) FROM request_steps i2 WHERE i2.request_id = r.id AND i2.step = 2 AND i2.outcome = 'incomplete')"

    /// The request's columns, named, over `requests r` joined to the subject's account `a`.
    static let requestColumns = """
        r.id, r.number, array_to_string(r.kinds, ',') AS kinds, r.state, r.subject_role, r.subject_hint::text AS subject_hint,
        a.user_id AS subject_user_id, r.requester_user_id, r.requester_name, r.requester_contact, r.channel, r.priority,
        r.submitted_by, r.completeness_checked_by, array_to_string(r.missing_documents, ',') AS missing_documents,
        r.validated_by, r.rejection_reason, r.executed_by, r.disclosed_user_id, r.receipt_confirmed_at, r.receipt_confirmed_by, r.created_at,
        r.updated_at, r.subject_account_id, r.completeness_note, array_to_string(r.hint_mismatch, ',') AS hint_mismatch,
        r.mismatch_acknowledgement, r.version, \(noticeQueued) AS notice_queued
        """

    /// Opens step $2 of request $1 at $3 with the limit it has now: step 6's from the request's
    /// priority, the others' from the standards. Later edits never rewrite an open step's limit.
    static let openStep = """
        INSERT INTO request_steps (request_id, step, started_at, limit_minutes)
        SELECT $1, $2, $3, CASE WHEN $2 = 6
            THEN (SELECT p.step6_minutes FROM priority_limits p JOIN requests r ON r.priority = p.priority WHERE r.id = $1)
            ELSE (SELECT minutes FROM sla_standards WHERE step = $2) END
        """

    /// What the state machine needs besides the request: the documents on file and those the subject's role requires.
    static let factColumns = """
        (SELECT coalesce(string_agg(DISTINCT type, ','), '') FROM request_documents WHERE request_id = r.id) AS document_types,
        (SELECT coalesce(string_agg(document_type, ','), '') FROM document_requirements WHERE subject_role = r.subject_role) AS required_types,
        \(incompleteSince) AS incomplete_since
        """

    public func request(_ id: Int64) async throws -> Request {
        try await pool.withConnection { try await Self.load(id, on: $0) }
    }

    /// The newest requests someone filed, is the requester of, or is the subject of.
    public func requests(involving userID: String, limit: Int = 50) async throws -> [Request] {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT \(Self.requestColumns) FROM requests r LEFT JOIN accounts a ON a.id = r.subject_account_id
                WHERE r.requester_user_id = $1 OR r.submitted_by = $1 OR a.user_id = $1
                ORDER BY r.id DESC LIMIT $2
                """, [userID, limit]
            ).map(Self.decodeRequest)
        }
    }

    /// The request with this number (`REQ-2026-000123`).
    public func request(number: String) async throws -> Request {
        try await pool.withConnection { connection in
            let rows = try await connection.query(
                "SELECT \(Self.requestColumns) FROM requests r LEFT JOIN accounts a ON a.id = r.subject_account_id WHERE r.number = $1", [number])
            guard let row = rows.first else { throw GateError.requestNotFound }
            return try Self.decodeRequest(row)
        }
    }

    static func load(_ id: Int64, on connection: PostgresConnection) async throws -> Request {
        let rows = try await connection.query(
            "SELECT \(requestColumns) FROM requests r LEFT JOIN accounts a ON a.id = r.subject_account_id WHERE r.id = $1", [id])
        guard let row = rows.first else { throw GateError.requestNotFound }
        return try decodeRequest(row)
    }

    /// The request and the state machine's facts in one read; `lock` holds the row until commit
    /// (a document upload takes turns with the steps this way).
    static func loadFacts(_ id: Int64, lock: Bool = false, on connection: PostgresConnection) async throws -> (Request, RequestFacts) {
        let snapshot = try await loadSnapshot(.id(id), lock: lock, on: connection)
        return (snapshot.request, snapshot.facts)
    }

    static func loadSnapshot(_ reference: RequestReference, lock: Bool = false, on connection: PostgresConnection) async throws -> RequestSnapshot {
        let (condition, key): (String, any PostgresEncodable) = switch reference {
        case .id(let id): ("r.id = $1", id)
        case .number(let number): ("r.number = $1", number)
        }
        let rows = try await connection.query(
            """
            SELECT \(requestColumns), \(factColumns), due.step AS due_step, due.limit_minutes AS due_limit, due.started_at AS due_since
            FROM requests r LEFT JOIN accounts a ON a.id = r.subject_account_id
            LEFT JOIN LATERAL (SELECT step, limit_minutes, started_at FROM request_steps WHERE request_id = r.id AND ended_at IS NULL LIMIT 1) due ON true
            WHERE \(condition)
            """ + (lock ? " FOR UPDATE OF r" : ""), [key])
        guard let row = rows.first else { throw GateError.requestNotFound }
        let request = try decodeRequest(row)
        func set(_ text: String) -> Set<DocumentType> { Set(text.split(separator: ",").compactMap { DocumentType(rawValue: String($0)) }) }
        let facts = RequestFacts(
            state: request.state, requester: request.requesterUserID, subject: request.subjectUserID,
            completenessCheckedBy: request.completenessCheckedBy, documents: set(try row.decode(String.self, column: "document_types")),
            requiredDocuments: set(try row.decode(String.self, column: "required_types")), receiptConfirmed: request.receiptConfirmedAt != nil,
            number: request.number, kinds: request.kinds, subjectRole: request.subjectRole, missingDocuments: request.missingDocuments,
            rejectionReason: request.rejectionReason, hint: request.subject,
            noticeQueued: request.noticeQueued, dueSince: try row.decode(Date?.self, column: "due_since"),
            incompleteSince: try row.decode(Date?.self, column: "incomplete_since"), submittedBy: request.submittedBy,
            dueStep: try row.decode(Int?.self, column: "due_step"), dueLimitMinutes: try row.decode(Int?.self, column: "due_limit"))
        return RequestSnapshot(request: request, facts: facts)
    }

    /// Moves the request to `state` and returns it as stored, in one statement.
    static func update(_ id: Int64, to state: RequestState, at now: Date, on connection: PostgresConnection) async throws -> Request {
        let rows = try await connection.query(
            """
            WITH r AS (UPDATE requests SET state = $2, updated_at = $3 WHERE id = $1 RETURNING *)
            SELECT \(requestColumns) FROM r LEFT JOIN accounts a ON a.id = r.subject_account_id
            """, [id, state.rawValue, now])
        guard let row = rows.first else { throw GateError.requestNotFound }
        return try decodeRequest(row)
    }

    static func decodeRequest(_ row: PostgresRow) throws -> Request {
        func list(_ text: String?) -> [String] { (text ?? "").split(separator: ",").map(String.init) }
        func value<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T { try row.decode(T.self, column: column) }
        func optional<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T? { try row.decode(T?.self, column: column) }
        // Stored values outside the enums are refused by CHECK constraints; an unknown one is a decoding error, not a trap.
        func parsed<T: RawRepresentable>(_ column: String) throws -> T where T.RawValue == String {
            guard let parsed = T(rawValue: try value(column, as: String.self)) else {
                throw PostgresError.decoding(column: column, type: String(describing: T.self))
            }
            return parsed
        }
        return Request(
            id: try value("id"), number: try value("number"),
            kinds: try RequestKinds(names: list(try value("kinds", as: String.self))),
            state: try parsed("state"), subjectRole: try parsed("subject_role"),
            subject: try JSONDecoder().decode(SubjectHint.self, from: Data(try value("subject_hint", as: String.self).utf8)),
            subjectUserID: try optional("subject_user_id"), requesterUserID: try optional("requester_user_id"),
            requesterName: try value("requester_name"), requesterContact: try value("requester_contact"),
            channel: try parsed("channel"), priority: try parsed("priority"),
            submittedBy: try value("submitted_by"), completenessCheckedBy: try optional("completeness_checked_by"),
            missingDocuments: list(try optional("missing_documents", as: String.self)).compactMap(DocumentType.init(rawValue:)),
            validatedBy: try optional("validated_by"), rejectionReason: try optional("rejection_reason"),
            executedBy: try optional("executed_by"), disclosedUserID: try optional("disclosed_user_id"),
            receiptConfirmedAt: try optional("receipt_confirmed_at"), receiptConfirmedBy: try optional("receipt_confirmed_by"),
            noticeQueued: try value("notice_queued"), createdAt: try value("created_at"),
            updatedAt: try value("updated_at"), subjectAccountID: try optional("subject_account_id"),
            completenessNote: try optional("completeness_note"), hintMismatch: list(try optional("hint_mismatch", as: String.self)),
            mismatchAcknowledgement: try optional("mismatch_acknowledgement"), version: try value("version"))
    }

    static let documentColumns = "id, type, file_name, media_type, size, encode(sha256, 'hex') AS sha256, uploaded_by, uploaded_at, purged_at"

    static func documents(of requestID: Int64, on connection: PostgresConnection) async throws -> [DocumentInfo] {
        try await connection.query("SELECT \(documentColumns) FROM request_documents WHERE request_id = $1 ORDER BY id", [requestID])
            .map(decodeDocument)
    }

    static func decodeDocument(_ row: PostgresRow) throws -> DocumentInfo {
        DocumentInfo(
            id: try row.decode(Int64.self, column: "id"), type: DocumentType(rawValue: try row.decode(String.self, column: "type")) ?? .other,
            fileName: try row.decode(String.self, column: "file_name"), mediaType: try row.decode(String.self, column: "media_type"),
            size: try row.decode(Int.self, column: "size"), sha256Hex: try row.decode(String.self, column: "sha256"),
            uploadedBy: try row.decode(String.self, column: "uploaded_by"), uploadedAt: try row.decode(Date.self, column: "uploaded_at"),
            purgedAt: try row.decode(Date?.self, column: "purged_at"))
    }
}
