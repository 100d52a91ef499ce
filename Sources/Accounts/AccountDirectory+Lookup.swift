import Audit
import Foundation
import Inputs
import Postgres

/// What an operator searches with: a user ID, NIP, e-mail, or part of a name or agency.
public struct LookupQuery: Sendable {
    public var text: String
    public var role: Role?
    public var agency: String?
    /// 1-based.
    public var page: Int
    public var pageSize: Int

    public init(text: String, role: Role? = nil, agency: String? = nil, page: Int = 1, pageSize: Int = 20) {
        self.text = text
        self.role = role
        self.agency = agency
        self.page = page
        self.pageSize = pageSize
    }
}

/// One page of matches, best first.
public struct LookupResult: Sendable {
    /// `user_id`, `nip`, `email` (exact) or `name` (fuzzy over name and agency).
    public let matchedBy: String
    public let accounts: [Account]
    public let page: Int
    public let hasMore: Bool
}

extension AccountDirectory {
    /// Finds accounts: exactly by user ID, NIP or e-mail when the text is one of those and matches,
    /// otherwise by the words of a name (every word matched, typos tolerated), and when no name
    /// holds them all, by trigram similarity over name and agency. Audited with who asked
    /// and why (`reason`: a request number or a free reason).
    public func lookup(_ query: LookupQuery, by actor: Operator, reason: String) async throws -> LookupResult {
        try AccessPolicy.require(actor.role, .lookUpAccounts)
        // Bounded and free of control characters before any of it reaches SQL or arithmetic.
        let text = try FreeText(query.text, field: "q").value
        let agency = try FreeText.optional(query.agency, field: "agency")?.value
        let reason = try FreeText(reason, field: "reason").value
        let page = try Page(number: query.page, size: query.pageSize)
        return try await pool.withTransaction { connection in
            let filters: [any PostgresEncodable] = [query.role?.rawValue, agency]
            var result: LookupResult?
            for (kind, column, value) in Self.exactCandidates(text) {
                let rows = try await connection.query(
                    """
                    SELECT \(Self.columns) FROM accounts
                    WHERE \(column) = $1 AND \(Self.lookupFilters(roleAt: 2))
                    """, [value] + filters)
                if rows.count > 0 {
                    result = LookupResult(matchedBy: kind, accounts: try rows.map(Self.decode), page: 1, hasMore: false)
                    break
                }
            }
            if result == nil {
                result = try await searchNameWords(text, filters: filters, page: page, on: connection)
            }
            if result == nil {
                // Lower than the default 0.6 so that "Yonatan Eko" still finds "YONATHAN EKO NUGROHO".
                try await connection.executeScript("SET LOCAL pg_trgm.word_similarity_threshold = 0.4")
                let rows = try await connection.query(
                    """
                    SELECT \(Self.columns) FROM accounts
                    WHERE (lower($1) <% lower(full_name) OR lower($1) <% lower(agency))
                      AND \(Self.lookupFilters(roleAt: 2))
                    ORDER BY greatest(word_similarity(lower($1), lower(full_name)), word_similarity(lower($1), lower(agency))) DESC, user_id
                    LIMIT $4 OFFSET $5
                    """, [text] + filters + [page.size + 1, page.offset])
                let accounts = try rows.map(Self.decode)
                result = LookupResult(
                    matchedBy: "name", accounts: Array(accounts.prefix(page.size)), page: page.number, hasMore: accounts.count > page.size)
            }
            guard let found = result else { throw AccountsError.accountNotFound }
            var details: [String: AuditValue] = [
                "query": .string(text), "matched_by": .string(found.matchedBy),
                "returned": .strings(found.accounts.map(\.userID.value)), "page": .int(found.page),
            ]
            if let role = query.role { details["role"] = .string(role.rawValue) }
            if let agency { details["agency"] = .string(agency) }
            try await audit.record(
                AuditEvent(occurredAt: clock.now, actor: actor.userID.value, action: "account.lookup", requestID: reason, details: details),
                on: connection)
            return found
        }
    }

    /// The optional role and agency filters of a lookup, as SQL over `accounts`: the role is
    /// parameter `$r`, the agency (a case-insensitive part of it) `$r+1`; NULL means any.
    static func lookupFilters(roleAt r: Int) -> String {
        "($\(r)::text IS NULL OR role = $\(r)) AND ($\(r + 1)::text IS NULL OR strpos(lower(agency), lower($\(r + 1))) > 0)"
    }

    /// The exact lookups the text could be, most specific first. Columns are fixed names, never input.
    static func exactCandidates(_ text: String) -> [(String, String, String)] {
        var candidates: [(String, String, String)] = []
        if let nip = try? NIP(text) { candidates.append(("nip", "nip", nip.value)) }
        if text.contains("@"), let email = try? EmailAddress(text) { candidates.append(("email", "lower(email)", email.value.lowercased())) }
        if let userID = try? UserID(text) { candidates.append(("user_id", "user_id", userID.value)) }
        return candidates
    }
}
