import Accounts
import Audit
import Foundation
import Postgres

extension GateService {
    /// Takes one SOP step on a request. `RequestStateMachine` decides — state, role, separation of
    /// duties, then the event's content — and returns the effects; this carries them out with
    /// the SLA clock, the notice and the audit row in one transaction, deciding nothing itself.
    public func act(_ event: GateEvent, on requestID: Int64, by actor: Actor) async throws -> ActionResult {
        // Argon2 runs before the transaction (never while it holds the row lock), and only once a
        // decision on a snapshot says this actor may execute this request: a refused execute
        // costs no hash. Under the lock the machine decides again on fresh facts.
        var prepared: Credentials.PreparedTemporaryPassword?
        if event == .execute {
            let (_, snapshot) = try await pool.withConnection { try await Self.loadFacts(requestID, on: $0) }
            if try RequestStateMachine.apply(event, to: snapshot, by: actor).get().resetsPassword {
                prepared = try await credentials.prepareTemporaryPassword()
            }
        }
        let now = clock.now
        return try await pool.withTransaction { connection in
            var (request, facts) = try await Self.loadFacts(requestID, lock: true, on: connection)
            if case .validity(true, let subject?, _) = event {
                // Resolve the named account only for an actor who may take step 5, so nobody else
                // learns from the answer whether an account exists.
                if let refusal = RequestStateMachine.authorize(event, facts: facts, actor: actor) { throw refusal }
                facts.namedSubject = try await resolveSubject(subject, on: connection)
            }
            let decision = try RequestStateMachine.apply(event, to: facts, by: actor).get()
            var temporary: (TemporaryPassword, Date)?
            var disclosed: String?
            var details: [String: AuditValue] = ["from": .string(decision.from.rawValue), "to": .string(decision.to.rawValue)]

            for effect in decision.effects {
                switch effect {
                case .recordCompleteness(let missing, let note):
                    try await connection.execute(
                        "UPDATE requests SET completeness_checked_by = $2, missing_documents = string_to_array($3, ',') WHERE id = $1",
                        [requestID, actor.userID, missing.map(\.rawValue).joined(separator: ",")])
                    details["missing"] = .strings(missing.map(\.rawValue))
                    if let note { details["note"] = .string(note) }
                case .recordValidity(let valid, let subject, let reason):
                    try await connection.execute(
                        "UPDATE requests SET validated_by = $2, subject_account_id = $3, rejection_reason = $4 WHERE id = $1",
                        [requestID, actor.userID, subject?.id, valid ? nil : reason])
                    if let subject { details["subject"] = .string(subject.userID) }
                case .resetPassword:
                    guard let prepared, let accountID = request.subjectAccountID else { throw GateError.subjectNotFound }
                    let expiresAt = try await credentials.installTemporaryPassword(
                        prepared, accountID: accountID, actor: actor.userID, requestID: request.number, on: connection)
                    temporary = (prepared.password, expiresAt)
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
                        INSERT INTO outbox (request_id, step, recipient, channel, subject_id, body_id, subject_en, body_en, created_at, next_attempt_at)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
                        """,
                        [requestID, notice.step, request.requesterContact, request.channel.rawValue, notice.subjectID, notice.bodyID,
                         notice.subjectEN, notice.bodyEN, now])
                    details["step"] = .int(notice.step)
                case .confirmReceipt:
                    try await connection.execute(
                        "UPDATE requests SET receipt_confirmed_at = $2, receipt_confirmed_by = $3 WHERE id = $1", [requestID, now, actor.userID])
                }
            }

            try await recordSteps(decision.transition, requestID: requestID, actor: actor, outcome: decision.outcome, at: now, on: connection)
            request = try await Self.update(requestID, to: decision.to, at: now, on: connection)
            try await audit.record(
                AuditEvent(occurredAt: now, actor: actor.userID, action: "request.\(event.action.rawValue)", subject: request.number,
                           requestID: request.number, details: details),
                on: connection)
            return ActionResult(
                request: request, transition: decision.transition,
                temporaryPassword: temporary?.0, temporaryPasswordExpiresAt: temporary?.1, disclosedUserID: disclosed)
        }
    }

    /// The account a validity verdict names, through the directory.
    private func resolveSubject(_ text: String, on connection: PostgresConnection) async throws -> SubjectAccount {
        let userID = try UserID(text)
        guard let account = try await directory.find(userID, on: connection) else { throw GateError.subjectNotFound }
        return SubjectAccount(id: account.id, userID: account.userID.value, role: account.role)
    }

    /// The SLA clock: ends the step that was due and starts the one that is due now.
    private func recordSteps(_ transition: Transition, requestID: Int64, actor: Actor, outcome: String, at now: Date,
                             on connection: PostgresConnection) async throws {
        if let ended = transition.endsStep {
            // The one clock rule: a step never ends before it started, even when this instance's clock
            // is behind the one that opened it (an NTP step, two instances with skewed clocks).
            let closed = try await connection.execute(
                """
                UPDATE request_steps SET ended_at = greatest($3, started_at), actor = $4, outcome = $5
                WHERE request_id = $1 AND step = $2 AND ended_at IS NULL
                """, [requestID, ended, now, actor.userID, outcome])
            if closed == 0 {
                // A step due without an open row (e.g. steps recorded before a standard existed): record it as taken now.
                try await connection.execute(
                    "INSERT INTO request_steps (request_id, step, started_at, ended_at, actor, outcome) VALUES ($1, $2, $3, $3, $4, $5)",
                    [requestID, ended, now, actor.userID, outcome])
            }
        }
        if let opened = transition.opensStep {
            try await connection.execute("INSERT INTO request_steps (request_id, step, started_at) VALUES ($1, $2, $3)", [requestID, opened, now])
        }
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
