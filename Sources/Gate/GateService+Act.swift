import Accounts
import Audit
import Foundation
import Postgres

/// A request as one read found it, for a caller who may see it: the step that follows is judged
/// on these facts, without reading the request again unless another step moved it meanwhile.
public struct RequestSnapshot: Sendable {
    public let request: Request
    let facts: RequestFacts

    /// The step due now, and when it is due (nil without a limit).
    public var dueStep: Int? { facts.dueStep }
    /// When step 2 last found the file incomplete: what was filed before it is what it judged.
    public var incompleteSince: Date? { facts.incompleteSince }
    public var dueBy: Date? {
        guard let since = facts.dueSince, let minutes = facts.dueLimitMinutes else { return nil }
        return SLA.deadline(startedAt: since, limitMinutes: minutes)
    }
}

/// How a caller names a request: by id (`42`) or number (`REQ-2026-000042`).
public enum RequestReference: Sendable, Equatable {
    case id(Int64)
    case number(String)
}

extension GateService {
    /// The request and its facts in one read, if `actor` may see it; otherwise `requestNotFound`,
    /// exactly as for a request that does not exist (the state machine's first refusal).
    public func snapshot(_ reference: RequestReference, for actor: Actor) async throws -> RequestSnapshot {
        let snapshot = try await pool.withConnection { try await Self.loadSnapshot(reference, on: $0) }
        guard RequestStateMachine.mayRead(requester: snapshot.facts.requester, submittedBy: snapshot.facts.submittedBy,
                                          subject: snapshot.facts.subject, actor) || actor.isSystem else {
            throw GateError.requestNotFound
        }
        return snapshot
    }

    /// Takes one SOP step on a request, reading it first.
    public func act(_ event: GateEvent, on requestID: Int64, by actor: Actor) async throws -> ActionResult {
        try await act(event, on: nil, reference: .id(requestID), by: actor)
    }

    /// Takes one SOP step on a request as `snapshot` found it.
    public func act(_ event: GateEvent, on snapshot: RequestSnapshot, by actor: Actor) async throws -> ActionResult {
        try await act(event, on: snapshot, reference: .id(snapshot.request.id), by: actor)
    }

    /// The request's facts are read once, without a lock (or taken from the caller's snapshot);
    /// `RequestStateMachine` decides once — who may see it, state, role, separation of duties,
    /// the event's content, lateness — and returns the effects; Argon2 runs only when they ask
    /// for it, before any transaction; then one transaction carries them out in two statements
    /// (`carryOut`). A step that loses the guarded write to a concurrent one (the version moved,
    /// or the database's one-notice-per-step constraint refused it) re-reads and is judged again
    /// on what the winner left: it does nothing and gets the machine's refusal.
    private func act(_ event: GateEvent, on given: RequestSnapshot?, reference: RequestReference, by actor: Actor) async throws -> ActionResult {
        var prepared: Credentials.PreparedTemporaryPassword?
        var known = given
        for _ in 0..<Self.raceRetries {
            let now = clock.now
            var snapshot: RequestSnapshot
            if let taken = known {
                snapshot = taken
                known = nil
            } else {
                snapshot = try await pool.withConnection { try await Self.loadSnapshot(reference, on: $0) }
            }
            var facts = snapshot.facts
            facts.now = now
            facts.sealedDelivery = sealedDelivery != nil
            if case .validity(true, let subject?, _, _) = event {
                // Resolve the named account only for an actor who may take step 5, so nobody else
                // learns from the answer whether an account exists.
                if let refusal = RequestStateMachine.authorize(event, facts: facts, actor: actor) { throw refusal }
                facts.namedSubject = try await pool.withConnection { try await resolveSubject(subject, on: $0) }
            }
            let decision = try RequestStateMachine.apply(event, to: facts, by: actor).get()
            if decision.resetsPassword, prepared == nil { prepared = try await credentials.prepareTemporaryPassword() }
            do {
                if let result = try await carryOut(decision, event: event, request: snapshot.request, prepared: prepared, by: actor, at: now) {
                    return result
                }
            } catch let error as PostgresError where error.sqlState == .uniqueViolation && error.constraint == "outbox_one_notice_per_step" {
                // Another step queued this step's notice first: judged again below, on its result.
            }
        }
        throw GateError.busy
    }

    /// How often a step that lost a race is judged again before the caller is asked to retry.
    static let raceRetries = 4

    /// The step's one transaction, nil when the request moved since its facts were read. Two
    /// statements: the guarded write of the request — its version, state and the step's own
    /// columns, so a loser finds no row and has written nothing — then everything else as parts of
    /// one statement: the temporary password, the notice, the SLA clock, deviations and the
    /// step's audit rows. Archiving moves the state in a third, last (an archived request refuses
    /// changes to its steps).
    private func carryOut(_ decision: Decision, event: GateEvent, request: Request, prepared: Credentials.PreparedTemporaryPassword?,
                          by actor: Actor, at now: Date) async throws -> ActionResult? {
        let archiving = decision.to == .archived
        var columns: [(String, any PostgresEncodable, String)] = [("updated_at", now, "timestamptz")]
        if !archiving { columns.append(("state", decision.to.rawValue, "text")) }
        var rest = CompositeStatement()
        var events: [AuditEvent] = []
        var deviations: [(DeviationKind, Int, String)] = []
        var temporary: (TemporaryPassword, Date)?
        var disclosed: String?
        var executes = false
        var queuesStep8 = false
        var details: [String: AuditValue] = ["from": .string(decision.from.rawValue), "to": .string(decision.to.rawValue)]
        // The values most parts share, bound once when a part first names them.
        let (requestID, at, by) = (request.id, now, actor.userID)
        func shared(_ s: inout CompositeStatement) -> (request: String, at: String, by: String) {
            (s.shared("request", requestID, as: "bigint"), s.shared("at", at, as: "timestamptz"), s.shared("by", by, as: "text"))
        }

        for effect in decision.effects {
            switch effect {
            case .recordCompleteness(let missing, let note):
                columns += [("completeness_checked_by", actor.userID, "text"), ("completeness_note", note, "text")]
                columns.append(("missing_documents", PostgresTextArray(missing.map(\.rawValue)), "text[]"))
                details["missing"] = .strings(missing.map(\.rawValue))
                if let note { details["note"] = .string(note) }
            case .recordValidity(let valid, let subject, let reason, let mismatch, let acknowledgement):
                columns += [("validated_by", actor.userID, "text"), ("subject_account_id", subject?.id, "bigint"),
                            ("rejection_reason", valid ? nil : reason, "text"), ("mismatch_acknowledgement", acknowledgement, "text")]
                columns.append(("hint_mismatch", mismatch.isEmpty ? nil : PostgresTextArray(mismatch), "text[]"))
                if let subject { details["subject"] = .string(subject.userID) }
                if !mismatch.isEmpty { details["mismatch"] = .strings(mismatch) }
                if let acknowledgement { details["acknowledgement"] = .string(acknowledgement) }
            case .resetPassword:
                guard let prepared, let accountID = request.subjectAccountID, let userID = request.subjectUserID else { throw GateError.subjectNotFound }
                let (expiresAt, reset) = credentials.addTemporaryPassword(
                    prepared, accountID: accountID, userID: userID, actor: actor.userID, requestID: request.number, at: now, to: &rest)
                events.append(reset)
                temporary = (prepared.password, expiresAt)
            case .sealSecondHalf:
                guard let box = sealedDelivery, let password = temporary?.0 else { throw GateError.subjectNotFound }
                try addSealedHalf(password, box: box, request: request, shared: shared, to: &rest)
            case .discloseUserID(let userID):
                disclosed = userID
                events.append(AuditEvent(occurredAt: now, actor: actor.userID, action: "account.disclose_user_id", subject: userID,
                                         requestID: request.number))
            case .recordExecution:
                columns += [("executed_by", actor.userID, "text"), ("disclosed_user_id", disclosed, "text")]
                executes = true
                details["kinds"] = .strings(request.kinds.names)
            case .queueNotice(let notice):
                rest.add("notice") { s in
                    let (requestID, at, by) = shared(&s)
                    return """
                    INSERT INTO outbox (request_id, step, recipient, channel, subject_id, body_id, subject_en, body_en, created_at,
                                        next_attempt_at, queued_by, step_id)
                    VALUES (\(requestID), \(s.bind(notice.step, as: "integer")), \(s.bind(request.noticeRecipient, as: "text")),
                            \(s.bind(request.channel.rawValue, as: "text")), \(s.bind(notice.subjectID, as: "text")),
                            \(s.bind(notice.bodyID, as: "text")), \(s.bind(notice.subjectEN, as: "text")), \(s.bind(notice.bodyEN, as: "text")),
                            \(at), \(at), \(by), (SELECT id FROM request_steps WHERE request_id = \(requestID) AND ended_at IS NULL))
                    """
                }
                queuesStep8 = queuesStep8 || notice.step == 8
                details["step"] = .int(notice.step)
            case .recordHandover(let handover):
                rest.add("handover") { s in
                    let (requestID, at, by) = shared(&s)
                    return """
                    INSERT INTO request_handovers (request_id, handed_by, recipient, channel, handed_at, recorded_at)
                    VALUES (\(requestID), \(by), \(s.bind(handover.recipient, as: "text")), \(s.bind(handover.channel.rawValue, as: "text")),
                            \(s.bind(handover.handedAt, as: "timestamptz")), \(at))
                    """
                }
                details["handover"] = .string(handover.channel.rawValue)
                details["recipient"] = .string(handover.recipient)
            case .recordDeviation(let kind, let step, let detail):
                deviations.append((kind, step, detail))
                // The step's own deviation is named in its audit row; lateness is the clock's.
                if kind != .late { details["deviation"] = .string(kind.rawValue) }
            case .recordAbandonment(let reason):
                columns.append(("rejection_reason", reason, "text"))
                details["reason"] = .string(reason)
            case .confirmReceipt:
                columns += [("receipt_confirmed_at", now, "timestamptz"), ("receipt_confirmed_by", actor.userID, "text")]
            case .recordUntimedStep(let step):
                rest.add("untimed_step") { s in
                    let (requestID, at, by) = shared(&s)
                    return """
                    INSERT INTO request_steps (request_id, step, started_at, ended_at, actor, outcome)
                    VALUES (\(requestID), \(s.bind(step, as: "integer")), \(at), \(at), \(by), \(s.bind(decision.outcome, as: "text")))
                    """
                }
            }
        }
        addClock(decision, shared: shared, untimed: decision.effects.contains { if case .recordUntimedStep = $0 { true } else { false } },
                 to: &rest)
        if !deviations.isEmpty {
            rest.add("deviations") { s in
                let (requestID, at, by) = shared(&s)
                let rows = deviations.map { kind, step, detail in
                    "(\(requestID), \(s.bind(step, as: "integer")), \(s.bind(kind.rawValue, as: "text")), \(by), \(s.bind(detail, as: "text")), \(at))"
                }
                return "INSERT INTO request_deviations (request_id, step, kind, actor, detail, detected_at) VALUES " + rows.joined(separator: ", ")
            }
        }
        events.append(AuditEvent(occurredAt: now, actor: actor.userID, action: "request.\(event.action.rawValue)", subject: request.number,
                                 requestID: request.number, details: details))
        rest.add("step_audit", AuditTrail.insert(events, into: &rest))
        let sealedResult = decision.effects.contains(.sealSecondHalf) ? "(SELECT recipient FROM sealed_half)" : "NULL::text"

        return try await pool.withTransaction { connection -> ActionResult? in
            var guarded = CompositeStatement()
            let assignments = columns.map { column, value, type in "\(column) = \(guarded.bind(value, as: type))" }
            guarded.add("r", """
                UPDATE requests SET version = version + 1, \(assignments.joined(separator: ", "))
                WHERE id = \(guarded.bind(request.id, as: "bigint")) AND version = \(guarded.bind(request.version, as: "bigint")) RETURNING *
                """)
            let moved = try await connection.query(
                guarded, returning: "SELECT \(Self.requestColumns) FROM r LEFT JOIN accounts a ON a.id = r.subject_account_id")
            guard let row = moved.first else { return nil }
            var stored = try Self.decodeRequest(row)
            if executes { try await hooks.afterExecuteEffect(connection) }
            // The rest of the step is its last statement, sent with the COMMIT, unless the archive follows it.
            let written = try await archiving ? connection.query(rest, returning: "SELECT \(sealedResult) AS sealed_to")
                : connection.queryCommitting(rest, returning: "SELECT \(sealedResult) AS sealed_to")
            if archiving { stored = try await Self.update(request.id, to: .archived, at: now, on: connection) }
            stored.noticeQueued = stored.noticeQueued || queuesStep8
            let sealedTo = try written.first?.decode(String?.self, column: "sealed_to")
            let password = temporary?.0.reveal
            let firstHalf = sealedTo == nil ? nil : password.map { String($0.prefix($0.count / 2)) }
            return ActionResult(
                request: stored, transition: decision.transition,
                temporaryPassword: sealedTo == nil ? temporary?.0 : nil, temporaryPasswordExpiresAt: temporary?.1, disclosedUserID: disclosed,
                firstHalf: firstHalf, secondHalfSentTo: sealedTo.map(Notice.masked))
        }
    }

    /// Sealed delivery: the second half of the temporary password goes, sealed in the outbox until
    /// the moment it is sent, to the e-mail address on file for the account (the reset's part
    /// returns it) — never to the requester's free-text contact — so neither the Admin PPE nor one
    /// channel holds it whole. A re-issue voids the half of the password it replaces, if it has
    /// not gone yet (the statement's snapshot does not see the half it inserts).
    private func addSealedHalf(_ password: TemporaryPassword, box: SecretBox, request: Request,
                               shared: (inout CompositeStatement) -> (request: String, at: String, by: String),
                               to statement: inout CompositeStatement) throws {
        let (requestID, at, by) = shared(&statement)
        let text = password.reveal
        let second = String(text.dropFirst(text.count / 2))
        let notice = Notice.sealedHalf(number: request.number)
        statement.add("sealed_void", """
            UPDATE outbox SET sealed = NULL, next_attempt_at = 'infinity', last_error = 'replaced by a re-issue'
            WHERE request_id = \(requestID) AND step = 6 AND delivered_at IS NULL
            """)
        let sealed = try box.seal(Array(second.utf8), context: Notice.sealedContext(request.id))
        statement.add("sealed_half", """
            INSERT INTO outbox (request_id, step, recipient, channel, subject_id, body_id, subject_en, body_en, created_at, next_attempt_at,
                                queued_by, sealed)
            SELECT \(requestID), 6, email, 'email', \(statement.bind(notice.subjectID, as: "text")), \(statement.bind(notice.bodyID, as: "text")),
                   \(statement.bind(notice.subjectEN, as: "text")), \(statement.bind(notice.bodyEN, as: "text")), \(at), \(at), \(by),
                   \(statement.bind(sealed, as: "bytea"))
            FROM \(Credentials.resetAccount) RETURNING recipient
            """)
    }

    /// The SLA clock: ends the step that was due and opens the one due now. The step opened is
    /// inserted only once the ended one is closed (it reads the closing part), as the database
    /// allows one open step per request.
    private func addClock(_ decision: Decision, shared: (inout CompositeStatement) -> (request: String, at: String, by: String), untimed: Bool,
                          to statement: inout CompositeStatement) {
        guard (decision.endsStep != nil && !untimed) || decision.opensStep != nil else { return }
        let (requestID, at, by) = shared(&statement)
        var after = "true"
        if let ended = decision.endsStep, !untimed {
            statement.add("step_ended", """
                UPDATE request_steps SET ended_at = greatest(\(at), started_at), actor = \(by), outcome = \(statement.bind(decision.outcome, as: "text"))
                WHERE request_id = \(requestID) AND step = \(statement.bind(ended, as: "integer")) AND ended_at IS NULL RETURNING id
                """)
            after = "(SELECT count(*) FROM step_ended) >= 0"
        }
        if let opened = decision.opensStep {
            let step = statement.bind(opened, as: "integer")
            statement.add("step_opened", """
                INSERT INTO request_steps (request_id, step, started_at, limit_minutes)
                SELECT \(requestID), \(step), \(at), CASE WHEN \(step) = 6
                    THEN (SELECT p.step6_minutes FROM priority_limits p JOIN requests r ON r.priority = p.priority WHERE r.id = \(requestID))
                    ELSE (SELECT minutes FROM sla_standards WHERE step = \(step)) END
                WHERE \(after)
                """)
        }
    }

    /// The account a validity verdict names, through the directory.
    private func resolveSubject(_ text: String, on connection: PostgresConnection) async throws -> SubjectAccount {
        let userID = try UserID(text)
        guard let account = try await directory.find(userID, on: connection) else { throw GateError.subjectNotFound }
        return SubjectAccount(id: account.id, userID: account.userID.value, role: account.role, fullName: account.fullName.value,
                              nip: account.nip?.value, email: account.email.value)
    }

    /// Confirms receipt of the step-8 notices of `userID`'s requests: called when that user first
    /// logs in with the temporary password.
    public func confirmReceiptOnFirstLogin(userID: String) async throws -> [String] {
        let rows = try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT r.id, a.role FROM requests r JOIN accounts a ON a.id = r.subject_account_id
                WHERE a.user_id = $1 AND r.state = 'notified' AND r.receipt_confirmed_at IS NULL
                """, [userID])
        }
        var confirmed: [String] = []
        for row in rows {
            let actor = Actor(userID: userID, role: try Role(parsing: try row.decode(String.self, column: "role")))
            let result = try await act(.confirmReceipt, on: try row.decode(Int64.self, column: "id"), by: actor)
            confirmed.append(result.request.number)
        }
        return confirmed
    }
}
