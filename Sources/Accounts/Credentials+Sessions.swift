import Audit
import Foundation
import Postgres

/// One of an account's live sessions, as its owner sees it on "my account".
public struct SessionSummary: Sendable, Equatable {
    /// Names the session without being it: the first 8 bytes of its token's SHA-256, in hex. A
    /// handle cannot be presented as a token, and the token's digest is all the server keeps.
    public let handle: String
    public let scope: SessionScope
    public let createdAt: Date
    public let lastSeenAt: Date
    public let expiresAt: Date
    /// The session that asked.
    public let isCurrent: Bool
}

extension Credentials {
    /// The asking session, and the live sessions of its account (the asking one first, then the
    /// most recently seen).
    public func sessions(of token: SessionToken) async throws -> (Session, [SessionSummary]) {
        let session = try await session(for: token, requireFull: true)
        let now = clock.now
        return (session, try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT encode(substring(token_hash FROM 1 FOR 8), 'hex') AS handle, scope, created_at, last_seen_at, expires_at,
                       token_hash = $2 AS current
                FROM sessions WHERE account_id = $1 AND revoked_at IS NULL AND expires_at > $3 AND last_seen_at > $4
                ORDER BY token_hash = $2 DESC, last_seen_at DESC LIMIT 100
                """, [session.accountID, token.digest, now, now.addingTimeInterval(-settings.sessionIdleTimeout)]
            ).map { row in
                SessionSummary(
                    handle: try row.decode(String.self, column: "handle"),
                    scope: SessionScope(rawValue: try row.decode(String.self, column: "scope")) ?? .changePasswordOnly,
                    createdAt: try row.decode(Date.self, column: "created_at"), lastSeenAt: try row.decode(Date.self, column: "last_seen_at"),
                    expiresAt: try row.decode(Date.self, column: "expires_at"), isCurrent: try row.decode(Bool.self, column: "current"))
            }
        })
    }

    /// Ends the owner's other sessions: the one named by `handle`, or every one but the asking
    /// session when `handle` is nil. Audited (`session.end`) with how many ended; naming the asking
    /// session, or one that is not the owner's, ends nothing and answers `sessionNotFound`.
    @discardableResult
    public func endOtherSessions(_ handle: String?, of token: SessionToken) async throws -> Int {
        if let handle, handle.utf8.count != 16 || !handle.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) {
            throw AccountsError.sessionNotFound
        }
        let session = try await session(for: token, requireFull: true)
        let now = clock.now
        return try await pool.withTransaction { connection in
            let ended = try await connection.query(
                """
                UPDATE sessions SET revoked_at = $3
                WHERE account_id = $1 AND token_hash <> $2 AND revoked_at IS NULL AND expires_at > $3
                  AND ($4::text IS NULL OR substring(token_hash FROM 1 FOR 8) = decode($4, 'hex'))
                RETURNING 1
                """, [session.accountID, token.digest, now, handle]
            ).count
            if handle != nil, ended == 0 { throw AccountsError.sessionNotFound }
            try await audit.record(
                AuditEvent(occurredAt: now, actor: session.userID.value, action: "session.end", subject: session.userID.value,
                           details: ["ended": .int(ended), "all_others": .bool(handle == nil)]),
                on: connection)
            return ended
        }
    }
}
