import Accounts
import Foundation
import Postgres

/// An open request in the queue: the step due, who may take it, and the time left (negative: overdue).
public struct QueueEntry: Sendable, Equatable {
    public let requestID: Int64
    public let number: String
    public let state: RequestState
    public let priority: Priority
    public let step: Int
    public let dueSince: Date
    /// nil for steps without a time limit (1 and 4).
    public let secondsLeft: Double?
    public let allowed: [AllowedAction]
    public var isOverdue: Bool { (secondsLeft ?? 1) < 0 }
}

/// One line of the SLA report: a step and an actor over a period.
public struct SLAReportLine: Sendable, Equatable, Codable {
    public let step: Int
    public let actor: String
    public let count: Int
    public let medianSeconds: Double
    public let p90Seconds: Double
    public let breaches: Int
    public let limitMinutes: Int?

    enum CodingKeys: String, CodingKey {
        case step, actor, count, medianSeconds = "median_seconds", p90Seconds = "p90_seconds", breaches, limitMinutes = "limit_minutes"
    }
}

extension GateService {
    /// Open requests, most urgent first: the step due, who may act, and the time left or overdue.
    public func queue() async throws -> [QueueEntry] {
        let now = clock.now
        return try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT r.id, r.number, r.state, r.priority, s.step, s.started_at, st.minutes, r.receipt_confirmed_at IS NOT NULL
                FROM requests r
                JOIN request_steps s ON s.request_id = r.id AND s.ended_at IS NULL
                JOIN sla_standards st ON st.step = s.step
                WHERE r.state <> 'archived'
                ORDER BY s.started_at + coalesce(make_interval(mins => st.minutes), interval '100 years'), r.id
                """
            ).map { row in
                let state = RequestState(rawValue: try row.decode(String.self, at: 2))!
                let started = try row.decode(Date.self, at: 5)
                let minutes = try row.decode(Int?.self, at: 6)
                let facts = RequestFacts(state: state, requester: nil, subject: nil, completenessCheckedBy: nil, documents: [],
                                         requiredDocuments: [], receiptConfirmed: try row.decode(Bool.self, at: 7))
                return QueueEntry(
                    requestID: try row.decode(Int64.self, at: 0), number: try row.decode(String.self, at: 1), state: state,
                    priority: Priority(rawValue: try row.decode(String.self, at: 3)) ?? .normal, step: try row.decode(Int.self, at: 4),
                    dueSince: started, secondsLeft: minutes.map { (Double($0 * 60) - now.timeIntervalSince(started)).rounded() },
                    allowed: RequestStateMachine.allowed(in: facts))
            }
        }
    }

    /// Per step and actor, for steps ended in [from, to): count, median and p90 duration, and
    /// breaches of the step's standard — each breach attributed to the actor who took the step.
    public func slaReport(from: Date, to: Date) async throws -> [SLAReportLine] {
        guard from < to else { throw GateError.invalidInput("the report period must end after it starts") }
        return try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT s.step, s.actor, count(*)::int,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM s.ended_at - s.started_at)),
                       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM s.ended_at - s.started_at)),
                       (count(*) FILTER (WHERE st.minutes IS NOT NULL AND s.ended_at - s.started_at > make_interval(mins => st.minutes)))::int,
                       st.minutes
                FROM request_steps s JOIN sla_standards st ON st.step = s.step
                WHERE s.ended_at >= $1 AND s.ended_at < $2
                GROUP BY s.step, s.actor, st.minutes
                ORDER BY s.step, s.actor
                """, [from, to]
            ).map { row in
                SLAReportLine(
                    step: try row.decode(Int.self, at: 0), actor: try row.decode(String.self, at: 1), count: try row.decode(Int.self, at: 2),
                    medianSeconds: try row.decode(Double.self, at: 3), p90Seconds: try row.decode(Double.self, at: 4),
                    breaches: try row.decode(Int.self, at: 5), limitMinutes: try row.decode(Int?.self, at: 6))
            }
        }
    }
}

extension GateService {
    /// Open requests per step due, and steps ended over their limit since `since`, per step: for metrics.
    public func stepCounts(breachesSince since: Date) async throws -> (open: [Int: Int], breaches: [Int: Int]) {
        try await pool.withConnection { connection in
            let open = try await connection.query(
                "SELECT step, count(*)::int FROM request_steps WHERE ended_at IS NULL GROUP BY step")
            let breaches = try await connection.query(
                """
                SELECT s.step, count(*)::int FROM request_steps s JOIN sla_standards st ON st.step = s.step
                WHERE s.ended_at >= $1 AND st.minutes IS NOT NULL AND s.ended_at - s.started_at > make_interval(mins => st.minutes)
                GROUP BY s.step
                """, [since])
            func map(_ rows: PostgresRows) throws -> [Int: Int] {
                try Dictionary(uniqueKeysWithValues: rows.map { (try $0.decode(Int.self, at: 0), try $0.decode(Int.self, at: 1)) })
            }
            return (try map(open), try map(breaches))
        }
    }
}
