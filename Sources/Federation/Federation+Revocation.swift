import Audit
import Foundation
import Postgres

/// Token revocation (RFC 7009) and introspection (RFC 7662) for the access tokens this provider
/// issued. A client reaches only its own tokens: any other token — unknown, expired, revoked or
/// another client's — is answered alike (revocation: done; introspection: inactive), so neither
/// endpoint tells a client whether a token exists.
extension Federation {
    /// Revokes `token` if it is `client`'s and still live — a refresh token with its whole family
    /// and the access tokens it gave (RFC 7009 §2.1); audited when it was.
    public func revoke(token: String, client: OpenIDClient) async throws {
        let now = clock.now
        try await pool.withTransaction { connection in
            if try await revokeRefreshFamily(Self.digest(token), client: client, at: now, on: connection) { return }
            let rows = try await connection.query(
                """
                UPDATE oidc_access_tokens t SET revoked_at = $3 FROM accounts a
                WHERE t.token_digest = $1 AND t.client_id = $2 AND t.revoked_at IS NULL AND t.expires_at > $3 AND a.id = t.account_id
                RETURNING a.user_id, t.sid
                """, [Self.digest(token), client.clientID, now])
            guard let row = rows.first else { return }
            try await audit.record(
                AuditEvent(occurredAt: now, actor: client.clientID, action: "oidc.token_revoke", subject: try row.decode(String.self, column: "user_id"),
                           details: ["client_id": .string(client.clientID), "sid": .string(try row.decode(String.self, column: "sid"))]),
                on: connection)
        }
    }

    /// What a resource server may know of `token`: active with its scope, subject, client and
    /// times while userinfo would accept it (live, unrevoked, its session alive, the account
    /// active and not bound to change a temporary password), else only `active: false`.
    public func introspect(token: String, client: OpenIDClient) async throws -> [String: Any] {
        let now = clock.now
        let row = try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT array_to_string(t.scopes, ' ') AS scope, a.oidc_subject::text AS sub, t.sid, t.created_at, t.expires_at
                FROM oidc_access_tokens t JOIN accounts a ON a.id = t.account_id JOIN sessions s ON s.token_hash = t.session_digest
                WHERE t.token_digest = $1 AND t.client_id = $2 AND t.revoked_at IS NULL AND t.expires_at > $3
                  AND a.status = 'active' AND NOT a.must_change_password AND s.revoked_at IS NULL AND s.expires_at > $3
                """, [Self.digest(token), client.clientID, now]).first
        }
        guard let row else { return ["active": false] }
        return [
            "active": true, "token_type": "Bearer", "client_id": client.clientID, "iss": settings.issuer, "aud": client.clientID,
            "scope": try row.decode(String.self, column: "scope"), "sub": try row.decode(String.self, column: "sub"),
            "sid": try row.decode(String.self, column: "sid"),
            "iat": Int(try row.decode(Date.self, column: "created_at").timeIntervalSince1970),
            "exp": Int(try row.decode(Date.self, column: "expires_at").timeIntervalSince1970),
        ]
    }
}
