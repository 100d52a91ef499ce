import Accounts
import Foundation
import Inputs
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

    public init(step: Int, actor: String, count: Int, medianSeconds: Double, p90Seconds: Double, breaches: Int, limitMinutes: Int?) {
        self.step = step
        self.actor = actor
        self.count = count
        self.medianSeconds = medianSeconds
        self.p90Seconds = p90Seconds
        self.breaches = breaches
        self.limitMinutes = limitMinutes
    }

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
                SELECT r.id, r.number, r.state, r.priority, s.step, s.started_at, st.minutes,
                       r.receipt_confirmed_at IS NOT NULL AS receipt_confirmed
                FROM requests r
                JOIN request_steps s ON s.request_id = r.id AND s.ended_at IS NULL
                JOIN sla_standards st ON st.step = s.step
                WHERE r.state <> 'archived'
                ORDER BY s.started_at + coalesce(make_interval(mins => st.minutes), interval '100 years'), r.id
                """
            ).map { row in
                let stateText = try row.decode(String.self, column: "state")
                guard let state = RequestState(rawValue: stateText) else { throw PostgresError.decoding(column: "state", type: "RequestState") }
                let started = try row.decode(Date.self, column: "started_at")
                let minutes = try row.decode(Int?.self, column: "minutes")
                let facts = RequestFacts(state: state, requester: nil, subject: nil, completenessCheckedBy: nil, documents: [],
                                         requiredDocuments: [], receiptConfirmed: try row.decode(Bool.self, column: "receipt_confirmed"))
                return QueueEntry(
                    requestID: try row.decode(Int64.self, column: "id"), number: try row.decode(String.self, column: "number"), state: state,
                    priority: Priority(rawValue: try row.decode(String.self, column: "priority")) ?? .normal, step: try row.decode(Int.self, column: "step"),
                    dueSince: started, secondsLeft: minutes.map { (Double($0 * 60) - now.timeIntervalSince(started)).rounded() },
                    allowed: RequestStateMachine.allowed(in: facts))
            }
        }
    }

    /// Per step and actor, for steps ended in [from, to): count, median and p90 duration, and
    /// breaches of the step's standard — each breach attributed to the actor who took the step.
    public func slaReport(_ period: Period) async throws -> [SLAReportLine] {
        let (from, to) = (period.from, period.to)
        return try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT s.step, s.actor, count(*)::int AS count,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM s.ended_at - s.started_at)) AS median,
                       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM s.ended_at - s.started_at)) AS p90,
                       (count(*) FILTER (WHERE st.minutes IS NOT NULL AND s.ended_at - s.started_at > make_interval(mins => st.minutes)))::int AS breaches,
                       st.minutes
                FROM request_steps s JOIN sla_standards st ON st.step = s.step
                WHERE s.ended_at >= $1 AND s.ended_at < $2
                GROUP BY s.step, s.actor, st.minutes
                ORDER BY s.step, s.actor
                """, [from, to]
            ).map { row in
                SLAReportLine(
                    step: try row.decode(Int.self, column: "step"), actor: try row.decode(String.self, column: "actor"),
                    count: try row.decode(Int.self, column: "count"), medianSeconds: try row.decode(Double.self, column: "median"),
                    p90Seconds: try row.decode(Double.self, column: "p90"), breaches: try row.decode(Int.self, column: "breaches"),
                    limitMinutes: try row.decode(Int?.self, column: "minutes"))
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

extension GateService {
    /// Notices waiting to be delivered, and those given up on (undeliverable): for metrics.
    public func outboxCounts() async throws -> (pending: Int, failed: Int) {
        try await pool.withConnection { connection in
            let row = try await connection.query(
                """
                SELECT count(*) FILTER (WHERE delivered_at IS NULL AND next_attempt_at <> 'infinity')::int AS pending,
                       count(*) FILTER (WHERE delivered_at IS NULL AND next_attempt_at = 'infinity')::int AS failed
                FROM outbox
                """).first
            return (try row?.decode(Int.self, column: "pending") ?? 0, try row?.decode(Int.self, column: "failed") ?? 0)
        }
    }
}
