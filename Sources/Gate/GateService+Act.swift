import Accounts
import Audit
import Foundation
import Postgres

extension GateService {
    /// Takes one SOP step on a request. The request's facts are read once, without a lock;
    /// `RequestStateMachine` decides — state, role, separation of duties, then the event's
    /// content — and returns the effects; Argon2 runs only when they ask for it, before any
    /// transaction; then one transaction opens with a guarded write on the request's version and
    /// carries the effects out with the SLA clock, the notice and the audit row. A step that
    /// loses the guarded write to a concurrent one (the version moved, or the database's
    /// one-notice-per-step constraint refused it) re-reads and is judged again on what the
    /// winner left: it does nothing and gets the machine's refusal.
    public func act(_ event: GateEvent, on requestID: Int64, by actor: Actor) async throws -> ActionResult {
        var prepared: Credentials.PreparedTemporaryPassword?
        for _ in 0..<Self.raceRetries {
            let now = clock.now
            let (request, fresh) = try await pool.withConnection { connection in
                var (request, facts) = try await Self.loadFacts(requestID, on: connection)
                if case .validity(true, let subject?, _, _) = event {
                    // Resolve the named account only for an actor who may take step 5, so nobody else
                    // learns from the answer whether an account exists.
                    if let refusal = RequestStateMachine.authorize(event, facts: facts, actor: actor) { throw refusal }
                    facts.namedSubject = try await resolveSubject(subject, on: connection)
                }
                return (request, facts)
            }
            var facts = fresh
            facts.now = now
            let decision = try RequestStateMachine.apply(event, to: facts, by: actor).get()
            if decision.resetsPassword, prepared == nil { prepared = try await credentials.prepareTemporaryPassword() }
            do {
                if let result = try await carryOut(decision, event: event, request: request, prepared: prepared, by: actor, at: now) {
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

    /// The step's one transaction; nil when the request moved since its facts were read.
    private func carryOut(_ decision: Decision, event: GateEvent, request: Request, prepared: Credentials.PreparedTemporaryPassword?,
                          by actor: Actor, at now: Date) async throws -> ActionResult? {
        let requestID = request.id
        let version = request.version
        return try await pool.withTransaction { connection -> ActionResult? in
            // The guard first: a loser finds no row and has written nothing. The state itself moves
            // last, after the steps (an archived request refuses changes to its steps).
            let moved = try await connection.execute(
                "UPDATE requests SET version = version + 1 WHERE id = $1 AND version = $2", [requestID, version])
            guard moved == 1 else { return nil }
            var temporary: (TemporaryPassword, Date)?
            var sealed: (firstHalf: String, sentTo: String)?
            var disclosed: String?
            var details: [String: AuditValue] = ["from": .string(decision.from.rawValue), "to": .string(decision.to.rawValue)]

            for effect in decision.effects {
                switch effect {
                case .recordCompleteness(let missing, let note):
                    try await connection.execute(
                        """
                        UPDATE requests SET completeness_checked_by = $2, missing_documents = string_to_array($3, ','), completeness_note = $4
                        WHERE id = $1
                        """,
                        [requestID, actor.userID, missing.map(\.rawValue).joined(separator: ","), note])
                    details["missing"] = .strings(missing.map(\.rawValue))
                    if let note { details["note"] = .string(note) }
                case .recordValidity(let valid, let subject, let reason, let mismatch, let acknowledgement):
                    try await connection.execute(
                        """
                        UPDATE requests SET validated_by = $2, subject_account_id = $3, rejection_reason = $4,
                               hint_mismatch = nullif(string_to_array($5, ','), '{}'), mismatch_acknowledgement = $6
                        WHERE id = $1
                        """,
                        [requestID, actor.userID, subject?.id, valid ? nil : reason, mismatch.joined(separator: ","), acknowledgement])
                    if let subject { details["subject"] = .string(subject.userID) }
                    if !mismatch.isEmpty { details["mismatch"] = .strings(mismatch) }
                    if let acknowledgement { details["acknowledgement"] = .string(acknowledgement) }
                case .resetPassword:
                    guard let prepared, let accountID = request.subjectAccountID else { throw GateError.subjectNotFound }
                    let expiresAt = try await credentials.installTemporaryPassword(
                        prepared, accountID: accountID, actor: actor.userID, requestID: request.number, on: connection)
                    temporary = (prepared.password, expiresAt)
                    if let box = sealedDelivery {
                        sealed = try await sealSecondHalf(prepared.password, box: box, accountID: accountID, request: request, actor: actor,
                                                          at: now, on: connection)
                    }
                case .discloseUserID(let userID):
                    disclosed = userID
                    try await audit.record(
                        AuditEvent(occurredAt: now, actor: actor.userID, action: "account.disclose_user_id", subject: userID, requestID: request.number),
                        on: connection)
                case .recordExecution:
                    try await connection.execute(
                        "UPDATE requests SET executed_by = $2, disclosed_user_id = $3 WHERE id = $1", [requestID, actor.userID, disclosed])
                    try await hooks.afterExecuteEffect(connection)
                    details["kinds"] = .strings(request.kinds.names)
                case .queueNotice(let notice):
                    try await connection.execute(
                        """
                        INSERT INTO outbox (request_id, step, recipient, channel, subject_id, body_id, subject_en, body_en, created_at,
                                            next_attempt_at, queued_by, step_id)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10,
                                (SELECT id FROM request_steps WHERE request_id = $1 AND ended_at IS NULL))
                        """,
                        [requestID, notice.step, request.requesterContact, request.channel.rawValue, notice.subjectID, notice.bodyID,
                         notice.subjectEN, notice.bodyEN, now, actor.userID])
                    details["step"] = .int(notice.step)
                case .recordHandover(let handover):
                    try await connection.execute(
                        """
                        INSERT INTO request_handovers (request_id, handed_by, recipient, channel, handed_at, recorded_at)
                        VALUES ($1, $2, $3, $4, $5, $6)
                        """, [requestID, actor.userID, handover.recipient, handover.channel.rawValue, handover.handedAt, now])
                    details["handover"] = .string(handover.channel.rawValue)
                    details["recipient"] = .string(handover.recipient)
                case .recordDeviation(let kind, let step, let detail):
                    try await Self.recordDeviation(kind, step: step, actor: actor.userID, detail: detail, requestID: requestID, at: now, on: connection)
                    details["deviation"] = .string(kind.rawValue)
                case .recordAbandonment(let reason):
                    try await connection.execute("UPDATE requests SET rejection_reason = $2 WHERE id = $1", [requestID, reason])
                    details["reason"] = .string(reason)
                case .confirmReceipt:
                    try await connection.execute(
                        "UPDATE requests SET receipt_confirmed_at = $2, receipt_confirmed_by = $3 WHERE id = $1", [requestID, now, actor.userID])
                }
            }

            try await recordSteps(decision.transition, requestID: requestID, actor: actor, outcome: decision.outcome, at: now, on: connection)
            let stored = try await Self.update(requestID, to: decision.to, at: now, on: connection)
            try await audit.record(
                AuditEvent(occurredAt: now, actor: actor.userID, action: "request.\(event.action.rawValue)", subject: request.number,
                           requestID: request.number, details: details),
                on: connection)
            return ActionResult(
                request: stored, transition: decision.transition,
                temporaryPassword: sealed == nil ? temporary?.0 : nil, temporaryPasswordExpiresAt: temporary?.1, disclosedUserID: disclosed,
                firstHalf: sealed?.firstHalf, secondHalfSentTo: sealed?.sentTo)
        }
    }

    /// Sealed delivery: the second half of the temporary password goes, sealed in the outbox until
    /// the moment it is sent, to the e-mail address on file for the account — never to the
    /// requester's free-text contact — so neither the Admin PPE nor one channel holds it whole.
    private func sealSecondHalf(_ password: TemporaryPassword, box: SecretBox, accountID: Int64, request: Request, actor: Actor,
                                at now: Date, on connection: PostgresConnection) async throws -> (firstHalf: String, sentTo: String) {
        let text = password.reveal
        let cut = text.index(text.startIndex, offsetBy: text.count / 2)
        let (first, second) = (String(text[..<cut]), String(text[cut...]))
        guard let email = try await connection.query("SELECT email FROM accounts WHERE id = $1", [accountID]).first?
            .decode(String.self, column: "email") else { throw GateError.subjectNotFound }
        let notice = Notice.sealedHalf(number: request.number)
        // A re-issue voids the half of the password it replaces, if it has not gone yet.
        try await connection.execute(
            """
            UPDATE outbox SET sealed = NULL, next_attempt_at = 'infinity', last_error = 'replaced by a re-issue'
            WHERE request_id = $1 AND step = 6 AND delivered_at IS NULL
            """, [request.id])
        try await connection.execute(
            "INSERT INTO outbox (request_id, step, recipient, channel, subject_id, body_id, subject_en, body_en, created_at, next_attempt_at, "
                + "queued_by, sealed) VALUES ($1, 6, $2, 'email', $3, $4, $5, $6, $7, $7, $8, $9)",
            [request.id, email, notice.subjectID, notice.bodyID, notice.subjectEN, notice.bodyEN, now, actor.userID, try box.seal(Array(second.utf8), context: Notice.sealedContext(request.id))])
        return (first, Notice.masked(email))
    }

    /// The account a validity verdict names, through the directory.
    private func resolveSubject(_ text: String, on connection: PostgresConnection) async throws -> SubjectAccount {
        let userID = try UserID(text)
        guard let account = try await directory.find(userID, on: connection) else { throw GateError.subjectNotFound }
        return SubjectAccount(id: account.id, userID: account.userID.value, role: account.role, fullName: account.fullName.value,
                              nip: account.nip?.value, email: account.email.value)
    }

    /// The SLA clock: ends the step that was due and starts the one that is due now.
    private func recordSteps(_ transition: Transition, requestID: Int64, actor: Actor, outcome: String, at now: Date,
                             on connection: PostgresConnection) async throws {
        if let ended = transition.endsStep {
            // The one clock rule: a step never ends before it started, even when this instance's clock
            // is behind the one that opened it (an NTP step, two instances with skewed clocks).
            let closed = try await connection.query(
                """
                UPDATE request_steps SET ended_at = greatest($3, started_at), actor = $4, outcome = $5
                WHERE request_id = $1 AND step = $2 AND ended_at IS NULL
                RETURNING limit_minutes, extract(epoch FROM ended_at - started_at)::float8 AS seconds
                """, [requestID, ended, now, actor.userID, outcome])
            if let row = closed.first {
                // A step over its limit is a deviation the person who took it explains; the
                // service's own abandonment is not a person's step.
                if let limit = try row.decode(Int?.self, column: "limit_minutes"), !actor.isSystem {
                    let seconds = try row.decode(Double.self, column: "seconds")
                    if seconds > Double(limit * 60) {
                        try await Self.recordDeviation(
                            .late, step: ended, actor: actor.userID,
                            detail: "took \(Int(seconds / 60)) min \(Int(seconds) % 60) s against a limit of \(limit) min",
                            requestID: requestID, at: now, on: connection)
                    }
                }
            } else {
                // A step due without an open row (e.g. steps recorded before a standard existed): record it as taken now.
                try await connection.execute(
                    "INSERT INTO request_steps (request_id, step, started_at, ended_at, actor, outcome) VALUES ($1, $2, $3, $3, $4, $5)",
                    [requestID, ended, now, actor.userID, outcome])
            }
        }
        if let opened = transition.opensStep {
            try await connection.execute(Self.openStep, [requestID, opened, now])
        }
    }

    static func recordDeviation(_ kind: DeviationKind, step: Int, actor: String, detail: String, requestID: Int64, at now: Date,
                                on connection: PostgresConnection) async throws {
        try await connection.execute(
            "INSERT INTO request_deviations (request_id, step, kind, actor, detail, detected_at) VALUES ($1, $2, $3, $4, $5, $6)",
            [requestID, step, kind.rawValue, actor, detail, now])
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
