import Accounts
import Audit
import Foundation
import Postgres

extension GateService {
    /// Details an action carries besides the event.
    public struct ActionInput: Sendable {
        /// Step 5: why the file is invalid. Step 2: a note on what is missing.
        public var reason: String?
        public init(reason: String? = nil) { self.reason = reason }
    }

    /// Takes one SOP step on a request. Refusals come from `RequestStateMachine` (wrong state,
    /// role, separation of duties) or from the effects (unknown subject account).
    public func act(_ event: GateEvent, on requestID: Int64, by actor: Actor, input: ActionInput = ActionInput()) async throws -> ActionResult {
        // Argon2 runs before the transaction, never while it holds the request's row lock.
        let prepared: Credentials.PreparedTemporaryPassword? =
            event == .execute ? try await credentials.prepareTemporaryPassword() : nil
        let now = clock.now
        return try await pool.withTransaction { connection in
            let request = try await Self.load(requestID, lock: true, on: connection)
            let facts = try await facts(request, on: connection)
            let transition = try RequestStateMachine.apply(event, to: facts, by: actor).get()
            var temporary: (TemporaryPassword, Date)?
            var disclosed: String?
            var outcome = event.action.rawValue
            var details: [String: AuditValue] = ["from": .string(transition.from.rawValue), "to": .string(transition.to.rawValue)]

            switch event {
            case .completeness(let complete):
                let missing = complete ? [] : DocumentType.allCases.filter(facts.requiredDocuments.subtracting(facts.documents).contains)
                try await connection.execute(
                    "UPDATE requests SET completeness_checked_by = $2, missing_documents = string_to_array($3, ',') WHERE id = $1",
                    [requestID, actor.userID, missing.map(\.rawValue).joined(separator: ",")])
                outcome = complete ? "complete" : "incomplete"
                details["missing"] = .strings(missing.map(\.rawValue))
            case .validity(let valid, let subject):
                var subjectID: Int64?
                if let subject {
                    let userID = try UserID(subject)
                    let rows = try await connection.query("SELECT id, role FROM accounts WHERE user_id = $1", [userID.value])
                    guard let row = rows.first else { throw GateError.subjectNotFound }
                    let role = try row.decode(String.self, at: 1)
                    guard role == request.subjectRole.rawValue else {
                        throw GateError.invalidInput("\(userID) is a \(role) account; the request concerns a \(request.subjectRole.rawValue)")
                    }
                    subjectID = try row.decode(Int64.self, at: 0)
                }
                let reason = input.reason?.trimmingCharacters(in: .whitespacesAndNewlines)
                guard valid || !(reason ?? "").isEmpty else { throw GateError.invalidInput("an invalid verdict needs a reason for the requester") }
                try await connection.execute(
                    "UPDATE requests SET validated_by = $2, subject_account_id = $3, rejection_reason = $4 WHERE id = $1",
                    [requestID, actor.userID, subjectID, valid ? nil : reason])
                outcome = valid ? "valid" : "invalid"
                if let subject { details["subject"] = .string(subject) }
            case .execute:
                // The state machine allows execute only after a valid verdict, which names the subject.
                guard let accountID = request.subjectAccountID else { throw GateError.subjectNotFound }
                if request.kinds.contains(.resetPassword), let prepared {
                    let expiresAt = try await credentials.installTemporaryPassword(
                        prepared, accountID: accountID, actor: actor.userID, requestID: request.number, on: connection)
                    temporary = (prepared.password, expiresAt)
                }
                if request.kinds.contains(.userIDInfo) {
                    disclosed = request.subjectUserID
                    try await audit.record(
                        AuditEvent(occurredAt: now, actor: actor.userID, action: "account.disclose_user_id", subject: request.subjectUserID,
                                   requestID: request.number),
                        on: connection)
                }
                try await connection.execute(
                    "UPDATE requests SET executed_by = $2, disclosed_user_id = $3 WHERE id = $1", [requestID, actor.userID, disclosed])
                try await hooks.afterExecuteEffect(connection)
                details["kinds"] = .strings(request.kinds.names)
            case .notify:
                let notice: Notice
                switch request.state {
                case .incomplete: notice = .supplement(number: request.number, missing: request.missingDocuments)
                case .invalid: notice = .rejection(number: request.number, reason: request.rejectionReason ?? "-")
                default: notice = .completion(number: request.number, kinds: request.kinds, userID: request.disclosedUserID)
                }
                try await connection.execute(
                    """
                    INSERT INTO outbox (request_id, step, recipient, channel, subject_id, body_id, subject_en, body_en, created_at, next_attempt_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
                    """,
                    [requestID, notice.step, request.requesterContact, request.channel.rawValue, notice.subjectID, notice.bodyID,
                     notice.subjectEN, notice.bodyEN, now])
                outcome = "sent"
                details["step"] = .int(notice.step)
            case .confirmReceipt:
                try await connection.execute(
                    "UPDATE requests SET receipt_confirmed_at = $2, receipt_confirmed_by = $3 WHERE id = $1", [requestID, now, actor.userID])
            case .supplement, .archive:
                break
            }

            try await recordSteps(transition, requestID: requestID, actor: actor, outcome: outcome, at: now, on: connection)
            try await connection.execute("UPDATE requests SET state = $2, updated_at = $3 WHERE id = $1", [requestID, transition.to.rawValue, now])
            try await audit.record(
                AuditEvent(occurredAt: now, actor: actor.userID, action: "request.\(event.action.rawValue)", subject: request.number,
                           requestID: request.number, details: details),
                on: connection)
            return ActionResult(
                request: try await Self.load(requestID, on: connection), transition: transition,
                temporaryPassword: temporary?.0, temporaryPasswordExpiresAt: temporary?.1, disclosedUserID: disclosed)
        }
    }

    /// The SLA clock: ends the step that was due and starts the one that is due now.
    private func recordSteps(_ transition: Transition, requestID: Int64, actor: Actor, outcome: String, at now: Date,
                             on connection: PostgresConnection) async throws {
        if let ended = transition.endsStep {
            let closed = try await connection.execute(
                "UPDATE request_steps SET ended_at = $3, actor = $4, outcome = $5 WHERE request_id = $1 AND step = $2 AND ended_at IS NULL",
                [requestID, ended, now, actor.userID, outcome])
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
            let actor = Actor(userID: userID, role: try Role(parsing: try row.decode(String.self, at: 1)))
            let result = try await act(.confirmReceipt, on: try row.decode(Int64.self, at: 0), by: actor)
            confirmed.append(result.request.number)
        }
        return confirmed
    }
}

