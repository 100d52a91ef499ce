import Accounts
import Audit
import Foundation
import Postgres

/// One step of a request's timeline: when it became due, when and by whom it was taken, its limit.
public struct StepRecord: Sendable, Equatable, Codable {
    public let step: Int
    public let startedAt: Date
    public let endedAt: Date?
    public let actor: String?
    public let outcome: String?
    public let limitMinutes: Int?

    /// Over its limit: taken late, or still open past it at `now`.
    public func isLate(at now: Date) -> Bool {
        SLA.isLate(seconds: (endedAt ?? now).timeIntervalSince(startedAt), limitMinutes: limitMinutes)
    }

    enum CodingKeys: String, CodingKey {
        case step, startedAt = "started_at", endedAt = "ended_at", actor, outcome, limitMinutes = "limit_minutes"
    }
}

/// A notice as the archive lists it: where it went and whether it arrived.
public struct NoticeRecord: Sendable, Equatable, Codable {
    public let step: Int
    public let channel: String
    public let recipient: String
    public let queuedBy: String?
    public let queuedAt: Date
    public let attempts: Int
    public let deliveredAt: Date?
    public let lastError: String?
    public let outcome: String

    enum CodingKeys: String, CodingKey {
        case step, channel, recipient, queuedBy = "queued_by", queuedAt = "queued_at", attempts, deliveredAt = "delivered_at"
        case lastError = "last_error", outcome
    }
}

/// Step 8's output as recorded.
public struct HandoverRecord: Sendable, Equatable, Codable {
    public let handedBy: String
    public let recipient: String
    public let channel: HandoverChannel
    public let handedAt: Date
    public let recordedAt: Date

    enum CodingKeys: String, CodingKey {
        case handedBy = "handed_by", recipient, channel, handedAt = "handed_at", recordedAt = "recorded_at"
    }
}

/// A deviation from a step's standard and the explanation its actor gave.
public struct Deviation: Sendable, Equatable, Codable {
    public let id: Int64
    public let requestNumber: String
    public let step: Int
    public let kind: DeviationKind
    public let actor: String
    public let detail: String
    public let detectedAt: Date
    public let explanation: String?
    public let explainedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, requestNumber = "request", step, kind, actor, detail, detectedAt = "detected_at", explanation, explainedAt = "explained_at"
    }
}

/// Everything the request file holds besides its documents: the archive's manifest and the
/// request page read the same record.
public struct RequestRecord: Sendable {
    public let steps: [StepRecord]
    public let notices: [NoticeRecord]
    public let handover: HandoverRecord?
    public let deviations: [Deviation]

    /// When step 2 last found the file incomplete.
    public var incompleteSince: Date? { steps.last { $0.step == 2 && $0.outcome == "incomplete" }?.endedAt }
}

extension Request {
    /// What step 2 found missing that nothing filed since answers — a document it found
    /// unreadable is on file, yet still due; empty unless a supplement is due.
    public func stillMissing(_ documents: [DocumentInfo], incompleteSince: Date?) -> [DocumentType] {
        guard [.incomplete, .awaitingSupplement].contains(state) else { return [] }
        let since = incompleteSince ?? .distantPast
        let answered = Set(documents.filter { $0.purgedAt == nil && $0.uploadedAt > since }.map(\.type))
        return missingDocuments.filter { !answered.contains($0) }
    }
}

extension GateService {
    public func record(of requestID: Int64) async throws -> RequestRecord {
        try await pool.withConnection { try await Self.record(of: requestID, on: $0) }
    }

    static func record(of requestID: Int64, on connection: PostgresConnection) async throws -> RequestRecord {
        let steps = try await connection.query(
            "SELECT step, started_at, ended_at, actor, outcome, limit_minutes FROM request_steps WHERE request_id = $1 ORDER BY id", [requestID]
        ).map { row in
            StepRecord(step: try row.decode(Int.self, column: "step"), startedAt: try row.decode(Date.self, column: "started_at"),
                       endedAt: try row.decode(Date?.self, column: "ended_at"), actor: try row.decode(String?.self, column: "actor"),
                       outcome: try row.decode(String?.self, column: "outcome"), limitMinutes: try row.decode(Int?.self, column: "limit_minutes"))
        }
        let notices = try await connection.query(
            """
            SELECT step, channel, recipient, queued_by, created_at, attempts, delivered_at, last_error,
                   CASE WHEN delivered_at IS NOT NULL THEN 'delivered' WHEN next_attempt_at = 'infinity' THEN 'failed' ELSE 'pending' END AS outcome
            FROM outbox WHERE request_id = $1 ORDER BY id
            """, [requestID]
        ).map { row in
            NoticeRecord(step: try row.decode(Int.self, column: "step"), channel: try row.decode(String.self, column: "channel"),
                         recipient: Self.shownRecipient(try row.decode(String.self, column: "recipient"), step: try row.decode(Int.self, column: "step")), queuedBy: try row.decode(String?.self, column: "queued_by"),
                         queuedAt: try row.decode(Date.self, column: "created_at"), attempts: try row.decode(Int.self, column: "attempts"),
                         deliveredAt: try row.decode(Date?.self, column: "delivered_at"), lastError: try row.decode(String?.self, column: "last_error"),
                         outcome: try row.decode(String.self, column: "outcome"))
        }
        let handover = try await connection.query(
            "SELECT handed_by, recipient, channel, handed_at, recorded_at FROM request_handovers WHERE request_id = $1", [requestID]
        ).first.map { row in
            HandoverRecord(handedBy: try row.decode(String.self, column: "handed_by"), recipient: try row.decode(String.self, column: "recipient"),
                           channel: HandoverChannel(rawValue: try row.decode(String.self, column: "channel")) ?? .phone,
                           handedAt: try row.decode(Date.self, column: "handed_at"), recordedAt: try row.decode(Date.self, column: "recorded_at"))
        }
        let deviations = try await connection.query("\(deviationQuery) WHERE d.request_id = $1 ORDER BY d.id", [requestID]).map(decodeDeviation)
        return RequestRecord(steps: steps, notices: notices, handover: handover, deviations: deviations)
    }

    /// A sealed half's address is the account's e-mail on file: masked wherever the record is shown.
    static func shownRecipient(_ recipient: String, step: Int) -> String {
        step == 6 ? Notice.masked(recipient) : recipient
    }

    static let deviationQuery = """
        SELECT d.id, r.number, d.step, d.kind, d.actor, d.detail, d.detected_at, d.explanation, d.explained_at
        FROM request_deviations d JOIN requests r ON r.id = d.request_id
        """

    static func decodeDeviation(_ row: PostgresRow) throws -> Deviation {
        guard let kind = DeviationKind(rawValue: try row.decode(String.self, column: "kind")) else {
            throw PostgresError.decoding(column: "kind", type: "DeviationKind")
        }
        return Deviation(
            id: try row.decode(Int64.self, column: "id"), requestNumber: try row.decode(String.self, column: "number"),
            step: try row.decode(Int.self, column: "step"), kind: kind, actor: try row.decode(String.self, column: "actor"),
            detail: try row.decode(String.self, column: "detail"), detectedAt: try row.decode(Date.self, column: "detected_at"),
            explanation: try row.decode(String?.self, column: "explanation"), explainedAt: try row.decode(Date?.self, column: "explained_at"))
    }

    /// Deviations, newest first: of one actor, and/or only those still to be explained.
    public func deviations(actor: String?, unexplainedOnly: Bool, limit: Int, offset: Int) async throws -> [Deviation] {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                \(Self.deviationQuery)
                WHERE ($1::text IS NULL OR d.actor = $1) AND (NOT $2 OR d.explanation IS NULL)
                ORDER BY d.id DESC LIMIT $3 OFFSET $4
                """, [actor, unexplainedOnly, limit, offset]
            ).map(Self.decodeDeviation)
        }
    }

    /// The actor's explanation of their deviation: given once, by them, audited.
    public func explain(_ deviationID: Int64, _ explanation: String, by actor: Actor) async throws -> Deviation {
        let now = clock.now
        return try await pool.withTransaction { connection in
            guard let row = try await connection.query("\(Self.deviationQuery) WHERE d.id = $1 FOR UPDATE OF d", [deviationID]).first else {
                throw GateError.deviationNotFound
            }
            let deviation = try Self.decodeDeviation(row)
            guard deviation.actor == actor.userID else { throw GateError.notTheirDeviation }
            guard deviation.explanation == nil else { throw GateError.deviationExplained }
            try await connection.execute(
                "UPDATE request_deviations SET explanation = $2, explained_at = $3 WHERE id = $1", [deviationID, explanation, now])
            try await audit.record(
                AuditEvent(occurredAt: now, actor: actor.userID, action: "deviation.explain", subject: deviation.requestNumber,
                           requestID: deviation.requestNumber,
                           details: ["deviation": .int(Int(deviationID)), "kind": .string(deviation.kind.rawValue), "step": .int(deviation.step)]),
                on: connection)
            guard let updated = try await connection.query("\(Self.deviationQuery) WHERE d.id = $1", [deviationID]).first else {
                throw GateError.deviationNotFound
            }
            return try Self.decodeDeviation(updated)
        }
    }
}
