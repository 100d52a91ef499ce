import Accounts
import Foundation
import Inputs
import Postgres

/// What a clerk filters the request list by: every filter optional, combined with AND.
public struct RequestSearch: Sendable, Equatable {
    public var state: RequestState?
    /// The SOP step due now (1…9).
    public var step: Int?
    /// The role the standard gives the step due now (or `requester` for step 4).
    public var holder: String?
    /// Who holds a step of SOP 004 by the standards: the requester (step 4), the Staf
    /// Administrasi and the Admin PPE — the choices a door offers for `holder`.
    public static let stepHolders = ["requester", Role.stafAdministrasi.rawValue, Role.adminPPE.rawValue]
    public var overdueOnly = false
    /// A request number, or part of the requester's name, the account's user ID or the hint's name.
    public var text: String?
    public var page: Page

    public init(state: RequestState? = nil, step: Int? = nil, holder: String? = nil, overdueOnly: Bool = false, text: String? = nil,
                page: Page) {
        self.state = state
        self.step = step
        self.holder = holder
        self.overdueOnly = overdueOnly
        self.text = text
        self.page = page
    }
}

/// One row of the request list: the request, and the step due with its deadline.
public struct RequestListEntry: Sendable {
    public let request: Request
    public let dueStep: Int?
    public let dueSince: Date?
    public let limitMinutes: Int?
    public let holder: String?

    public func isOverdue(at now: Date) -> Bool {
        guard let dueSince else { return false }
        return SLA.isLate(seconds: now.timeIntervalSince(dueSince), limitMinutes: limitMinutes)
    }
}

extension GateService {
    /// Requests, newest first, narrowed by `search` — archived ones included, so a file that moved
    /// on is found again without its URL. One query; the text matches case-insensitively as a
    /// substring (its `%` and `_` taken literally).
    public func search(_ search: RequestSearch) async throws -> (entries: [RequestListEntry], more: Bool) {
        let now = clock.now
        let pattern = search.text.map { "%" + $0.lowercased().replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%" }
        return try await pool.withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT \(Self.requestColumns), due.step AS due_step, due.started_at AS due_since, due.limit_minutes AS due_limit,
                       CASE WHEN due.step = 4 THEN 'requester' ELSE st.actor_role END AS holder
                FROM requests r LEFT JOIN accounts a ON a.id = r.subject_account_id
                LEFT JOIN LATERAL (SELECT s.step, s.started_at, s.limit_minutes, s.ended_at FROM request_steps s
                                   WHERE s.request_id = r.id AND s.ended_at IS NULL LIMIT 1) due ON true
                LEFT JOIN sla_standards st ON st.step = due.step
                WHERE ($1::text IS NULL OR r.state = $1)
                  AND ($2::int IS NULL OR due.step = $2)
                  AND ($3::text IS NULL OR (CASE WHEN due.step = 4 THEN 'requester' ELSE st.actor_role END) = $3)
                  AND (NOT $4::boolean OR \(SLA.sqlLate("due", at: "$5::timestamptz")))
                  AND ($6::text IS NULL OR lower(r.number) LIKE $6 OR lower(r.requester_name) LIKE $6 OR lower(coalesce(a.user_id, '')) LIKE $6
                       OR lower(coalesce(r.subject_hint->>'full_name', '')) LIKE $6 OR lower(coalesce(r.subject_hint->>'user_id', '')) LIKE $6)
                ORDER BY r.id DESC LIMIT $7 OFFSET $8
                """,
                [search.state?.rawValue, search.step, search.holder, search.overdueOnly, now, pattern, search.page.size + 1, search.page.offset])
            let entries = try rows.prefix(search.page.size).map { row in
                RequestListEntry(
                    request: try Self.decodeRequest(row), dueStep: try row.decode(Int?.self, column: "due_step"),
                    dueSince: try row.decode(Date?.self, column: "due_since"), limitMinutes: try row.decode(Int?.self, column: "due_limit"),
                    holder: try row.decode(String?.self, column: "holder"))
            }
            return (entries, rows.count > search.page.size)
        }
    }
}
