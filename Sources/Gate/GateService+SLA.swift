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
    public let limitMinutes: Int?
    public let allowed: [AllowedAction]
    /// Who holds the step until someone takes it: the role the standard names.
    public let holder: String
    /// For a file left incomplete: when the service will reject it.
    public let abandonsAt: Date?
    /// Filed by the requester at the public door (the intake queue marks it).
    public var isOnline = false
    public var isOverdue: Bool { (secondsLeft ?? 1) < 0 }
}

/// One line of the SLA report: a step, an actor and a priority over a period. `status` is
/// `done` for steps taken (attributed to the person who took them) or `open_overdue` for steps
/// past their limit that nobody has taken yet (attributed to the role that holds them).
public struct SLAReportLine: Sendable, Equatable, Codable {
    public let step: Int
    public let actor: String
    public let priority: String
    public let status: String
    public let count: Int
    public let medianSeconds: Double
    public let p90Seconds: Double
    public let breaches: Int
    public let limitMinutes: Int?
    /// Deviations of this step and actor, explained and still owed.
    public let explained: Int
    public let unexplained: Int

    public init(step: Int, actor: String, priority: String = "normal", status: String = "done", count: Int, medianSeconds: Double,
                p90Seconds: Double, breaches: Int, limitMinutes: Int?, explained: Int = 0, unexplained: Int = 0) {
        self.step = step
        self.actor = actor
        self.priority = priority
        self.status = status
        self.count = count
        self.medianSeconds = medianSeconds
        self.p90Seconds = p90Seconds
        self.breaches = breaches
        self.limitMinutes = limitMinutes
        self.explained = explained
        self.unexplained = unexplained
    }

    enum CodingKeys: String, CodingKey {
        case step, actor, priority, status, count, medianSeconds = "median_seconds", p90Seconds = "p90_seconds", breaches
        case limitMinutes = "limit_minutes", explained, unexplained
    }
}

extension GateService {
    /// Open requests, most urgent first: the step due, who may act, and the time left or overdue.
    public func queue() async throws -> [QueueEntry] {
        let now = clock.now
        return try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT r.id, r.number, r.state, r.priority, s.step, s.started_at, s.limit_minutes, st.actor_role, r.channel = 'online' AS online,
                       r.receipt_confirmed_at IS NOT NULL AS receipt_confirmed,
                       \(Self.noticeQueued) AS notice_queued,
                       CASE WHEN r.state IN ('incomplete', 'awaiting_supplement') THEN
                           \(Self.incompleteSince)
                       END AS incomplete_since
                FROM requests r
                JOIN request_steps s ON s.request_id = r.id AND s.ended_at IS NULL
                JOIN sla_standards st ON st.step = s.step
                WHERE r.state <> 'archived'
                ORDER BY coalesce(\(SLA.sqlDeadline()), 'infinity'), r.id
                """
            ).map { row in
                let stateText = try row.decode(String.self, column: "state")
                guard let state = RequestState(rawValue: stateText) else { throw PostgresError.decoding(column: "state", type: "RequestState") }
                let started = try row.decode(Date.self, column: "started_at")
                let minutes = try row.decode(Int?.self, column: "limit_minutes")
                let facts = RequestFacts(state: state, requester: nil, subject: nil, completenessCheckedBy: nil, documents: [],
                                         requiredDocuments: [], receiptConfirmed: try row.decode(Bool.self, column: "receipt_confirmed"),
                                         noticeQueued: try row.decode(Bool.self, column: "notice_queued"))
                let step = try row.decode(Int.self, column: "step")
                var entry = QueueEntry(
                    requestID: try row.decode(Int64.self, column: "id"), number: try row.decode(String.self, column: "number"), state: state,
                    priority: Priority(rawValue: try row.decode(String.self, column: "priority")) ?? .normal, step: step,
                    dueSince: started, secondsLeft: minutes.map { SLA.deadline(startedAt: started, limitMinutes: $0).timeIntervalSince(now).rounded() },
                    limitMinutes: minutes, allowed: RequestStateMachine.allowed(in: facts),
                    holder: step == 4 ? "requester" : try row.decode(String.self, column: "actor_role"),
                    abandonsAt: try row.decode(Date?.self, column: "incomplete_since").map { $0.addingTimeInterval(abandonAfter) })
                entry.isOnline = try row.decode(Bool.self, column: "online")
                return entry
            }
        }
    }

    /// Per step, actor and priority, for steps ended in [from, to): count, median and p90
    /// duration, breaches of the limit each step had when it opened, and the deviations
    /// explained and owed — each attributed to the person who took the step. Then the steps
    /// open past their limit now, attributed to the role that holds them.
    public func slaReport(_ period: Period) async throws -> [SLAReportLine] {
        let (from, to) = (period.from, period.to)
        let now = clock.now
        return try await pool.withConnection { connection in
            let done = try await connection.query(
                """
                WITH done AS (
                    SELECT s.step, s.actor, r.priority, s.limit_minutes, extract(epoch FROM s.ended_at - s.started_at)::float8 AS seconds,
                           \(SLA.sqlLate("s", at: "s.ended_at")) AS late
                    FROM request_steps s JOIN requests r ON r.id = s.request_id
                    WHERE s.ended_at >= $1 AND s.ended_at < $2 AND s.actor IS NOT NULL
                ), lines AS (
                    SELECT step, actor, priority, count(*)::int AS count,
                           percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median,
                           percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds) AS p90,
                           (count(*) FILTER (WHERE late))::int AS breaches,
                           max(limit_minutes) AS limit_minutes
                    FROM done GROUP BY step, actor, priority
                ), devs AS (
                    SELECT d.step, d.actor, r.priority, (count(*) FILTER (WHERE d.explanation IS NOT NULL))::int AS explained,
                           (count(*) FILTER (WHERE d.explanation IS NULL))::int AS unexplained
                    FROM request_deviations d JOIN requests r ON r.id = d.request_id
                    WHERE d.detected_at >= $1 AND d.detected_at < $2
                    GROUP BY d.step, d.actor, r.priority
                )
                SELECT coalesce(l.step, v.step) AS step, coalesce(l.actor, v.actor) AS actor, coalesce(l.priority, v.priority) AS priority,
                       coalesce(l.count, 0) AS count, coalesce(l.median, 0) AS median, coalesce(l.p90, 0) AS p90,
                       coalesce(l.breaches, 0) AS breaches, l.limit_minutes, coalesce(v.explained, 0) AS explained,
                       coalesce(v.unexplained, 0) AS unexplained
                FROM lines l FULL JOIN devs v ON l.step = v.step AND l.actor = v.actor AND l.priority = v.priority
                ORDER BY 1, array_position(ARRAY['urgent', 'high', 'normal', 'low'], coalesce(l.priority, v.priority)), 2
                """, [from, to]
            ).map { row in
                SLAReportLine(
                    step: try row.decode(Int.self, column: "step"), actor: try row.decode(String.self, column: "actor"),
                    priority: try row.decode(String.self, column: "priority"), status: "done",
                    count: try row.decode(Int.self, column: "count"), medianSeconds: try row.decode(Double.self, column: "median"),
                    p90Seconds: try row.decode(Double.self, column: "p90"), breaches: try row.decode(Int.self, column: "breaches"),
                    limitMinutes: try row.decode(Int?.self, column: "limit_minutes"), explained: try row.decode(Int.self, column: "explained"),
                    unexplained: try row.decode(Int.self, column: "unexplained"))
            }
            let open = try await connection.query(
                """
                SELECT s.step, 'role:' || CASE WHEN s.step = 4 THEN 'requester' ELSE st.actor_role END AS actor, r.priority,
                       count(*)::int AS count,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM $1 - s.started_at)) AS median,
                       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM $1 - s.started_at)) AS p90,
                       max(s.limit_minutes) AS limit_minutes
                FROM request_steps s JOIN requests r ON r.id = s.request_id JOIN sla_standards st ON st.step = s.step
                WHERE s.ended_at IS NULL AND \(SLA.sqlLate(at: "$1"))
                GROUP BY s.step, 2, r.priority
                ORDER BY s.step, array_position(ARRAY['urgent', 'high', 'normal', 'low'], r.priority)
                """, [now]
            ).map { row in
                let count = try row.decode(Int.self, column: "count")
                return SLAReportLine(
                    step: try row.decode(Int.self, column: "step"), actor: try row.decode(String.self, column: "actor"),
                    priority: try row.decode(String.self, column: "priority"), status: "open_overdue", count: count,
                    medianSeconds: try row.decode(Double.self, column: "median"), p90Seconds: try row.decode(Double.self, column: "p90"),
                    breaches: count, limitMinutes: try row.decode(Int?.self, column: "limit_minutes"), unexplained: 0)
            }
            return done + open
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
                SELECT s.step, count(*)::int FROM request_steps s
                WHERE s.ended_at >= $1 AND \(SLA.sqlLate(at: "$1"))
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
