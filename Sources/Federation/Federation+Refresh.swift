import Accounts
import Audit
import Crypto
import Foundation
import Inputs
import Postgres

/// What one code redemption granted, carried to every token it leads to.
struct Grant: Sendable {
    let clientID: String
    let accountID: Int64
    let codeDigest: [UInt8]
    let scopes: [String]
    let sid: String
    let sessionDigest: [UInt8]
    /// The refresh family the tokens came from, when they came from one.
    var family: [UInt8]? = nil
}

/// Refresh tokens rotated on every use (RFC 9700 §4.14.2): a use makes the family's next
/// generation; a retry within `refreshRetryWindow` gets that same successor (kept sealed until
/// it is used in turn); any other reuse revokes the family and the access tokens it gave. A family
/// ends with the browser session that authorized it (sign-out, a reset through the gate, a disable).
extension Federation {
    static func successorContext(_ digest: [UInt8]) -> String {
        "oidc-refresh-successor:" + Hex.encode(digest)
    }

    func issueAccessToken(_ grant: Grant, at now: Date, on connection: PostgresConnection) async throws -> String {
        let access = Base64URL.encode(randomBytes(32))
        try await connection.execute(
            """
            INSERT INTO oidc_access_tokens (token_digest, client_id, account_id, code_digest, scopes, sid, created_at, expires_at, session_digest, refresh_family)
            VALUES ($1, $2, $3, $4, ARRAY(SELECT jsonb_array_elements_text($5::jsonb)), $6, $7, $8, $9, $10)
            """,
            [Self.digest(access), grant.clientID, grant.accountID, grant.codeDigest, Self.json(grant.scopes), grant.sid, now,
             now.addingTimeInterval(settings.accessTokenLifetime), grant.sessionDigest, grant.family])
        return access
    }

    /// Generation `generation` of the grant's family (a new family at 0).
    func issueRefreshToken(_ grant: Grant, generation: Int, at now: Date, on connection: PostgresConnection) async throws -> String {
        let token = Base64URL.encode(randomBytes(32))
        let digest = Self.digest(token)
        try await connection.execute(
            """
            INSERT INTO oidc_refresh_tokens (token_digest, family, generation, client_id, account_id, code_digest, scopes, sid, session_digest, created_at, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, ARRAY(SELECT jsonb_array_elements_text($7::jsonb)), $8, $9, $10, $11)
            """,
            [digest, grant.family ?? digest, generation, grant.clientID, grant.accountID, grant.codeDigest, Self.json(grant.scopes), grant.sid,
             grant.sessionDigest, now, now.addingTimeInterval(settings.refreshTokenLifetime)])
        return token
    }

    /// The refresh grant (RFC 6749 §6): a new access token and the family's next refresh token.
    /// `scope`, when given, narrows the access token to part of what was granted.
    public func refresh(token: String, client: OpenIDClient, scope: String?) async throws -> TokenResponse {
        guard let box = secrets else { throw FederationError.signingUnavailable }
        let now = clock.now
        let digest = Self.digest(token)
        enum Outcome: Sendable { case refused(String), reused, granted(TokenResponse) }
        let outcome: Outcome = try await pool.withTransaction { connection in
            // The row is locked: concurrent uses of one token are judged one after the other.
            let rows = try await connection.query(
                """
                SELECT r.family, r.generation, r.client_id, r.account_id, r.code_digest, array_to_json(r.scopes)::text AS scopes, r.sid,
                       r.session_digest, r.expires_at, r.used_at, r.successor_sealed, r.revoked_at, a.user_id,
                       (a.status = 'active' AND NOT a.must_change_password AND s.token_hash IS NOT NULL) AS alive
                FROM oidc_refresh_tokens r JOIN accounts a ON a.id = r.account_id
                LEFT JOIN sessions s ON s.token_hash = r.session_digest AND s.revoked_at IS NULL AND s.expires_at > $2
                WHERE r.token_digest = $1 FOR UPDATE OF r
                """, [digest, now])
            guard let row = rows.first else { return .refused("the refresh token is unknown") }
            guard try row.decode(String.self, column: "client_id") == client.clientID else { return .refused("the refresh token was issued to another client") }
            guard try row.decode(Date?.self, column: "revoked_at") == nil else { return .refused("the refresh token is revoked") }
            let family = try row.decode([UInt8].self, column: "family")
            let generation = try row.decode(Int.self, column: "generation")
            let userID = try row.decode(String.self, column: "user_id")
            let granted = Self.strings(try row.decode(String.self, column: "scopes"))
            let grant = Grant(clientID: client.clientID, accountID: try row.decode(Int64.self, column: "account_id"),
                              codeDigest: try row.decode([UInt8].self, column: "code_digest"), scopes: granted,
                              sid: try row.decode(String.self, column: "sid"), sessionDigest: try row.decode([UInt8].self, column: "session_digest"),
                              family: family)
            let narrowed = scope.map { $0.split(separator: " ").map(String.init) } ?? granted
            guard Set(narrowed).isSubset(of: granted), !narrowed.isEmpty else { throw FederationError.invalidScope("wider than what was granted") }
            guard try row.decode(Bool.self, column: "alive") else { return .refused("the session that authorized it has ended") }
            // Only the access token is narrowed: the successor keeps the grant's whole scope (RFC 6749 §6).
            let accessGrant = Grant(clientID: grant.clientID, accountID: grant.accountID, codeDigest: grant.codeDigest, scopes: narrowed, sid: grant.sid,
                                    sessionDigest: grant.sessionDigest, family: family)
            let successor: String
            if let usedAt = try row.decode(Date?.self, column: "used_at") {
                // A retry of a use just made (a lost answer) gets the same successor, while that
                // one has not been used in turn; anything else is a replay.
                let sealed = try row.decode([UInt8]?.self, column: "successor_sealed")
                guard now.timeIntervalSince(usedAt) <= settings.refreshRetryWindow, let sealed,
                      let opened = try? box.open(sealed, context: Self.successorContext(digest)),
                      let text = String(bytes: opened, encoding: .utf8) else {
                    let families = try await connection.execute(
                        "UPDATE oidc_refresh_tokens SET revoked_at = $2 WHERE family = $1 AND revoked_at IS NULL", [family, now])
                    let tokens = try await connection.execute(
                        "UPDATE oidc_access_tokens SET revoked_at = $2 WHERE refresh_family = $1 AND revoked_at IS NULL", [family, now])
                    try await audit.record(
                        AuditEvent(occurredAt: now, actor: client.clientID, action: "oidc.refresh_reuse", subject: userID,
                                   details: ["client_id": .string(client.clientID), "generation": .int(generation),
                                             "refresh_tokens_revoked": .int(families), "access_tokens_revoked": .int(tokens)]),
                        on: connection)
                    return .reused
                }
                successor = text
            } else {
                guard try row.decode(Date.self, column: "expires_at") > now else { return .refused("the refresh token has expired") }
                successor = try await issueRefreshToken(grant, generation: generation + 1, at: now, on: connection)
                try await connection.execute(
                    "UPDATE oidc_refresh_tokens SET used_at = $2, successor_sealed = $3 WHERE token_digest = $1",
                    [digest, now, try box.seal(Array(successor.utf8), context: Self.successorContext(digest))])
                // The predecessor's retry window closes once its successor is used: nothing kept sealed for it.
                try await connection.execute(
                    "UPDATE oidc_refresh_tokens SET successor_sealed = NULL WHERE family = $1 AND generation = $2", [family, generation - 1])
            }
            let access = try await issueAccessToken(accessGrant, at: now, on: connection)
            try await audit.record(
                AuditEvent(occurredAt: now, actor: userID, action: "oidc.token_refresh", subject: client.clientID,
                           details: ["generation": .int(generation + 1), "scopes": .strings(narrowed)]),
                on: connection)
            return .granted(TokenResponse(accessToken: access, expiresIn: Int(settings.accessTokenLifetime), idToken: nil,
                                          scope: narrowed.joined(separator: " "), refreshToken: successor))
        }
        switch outcome {
        case .granted(let response): return response
        case .reused: throw FederationError.invalidGrant("the refresh token was already used; its family is revoked")
        case .refused(let reason): throw FederationError.invalidGrant(reason)
        }
    }

    /// Revokes the refresh token's family and the access tokens it gave, if it is `client`'s; true when it was one.
    func revokeRefreshFamily(_ digest: [UInt8], client: OpenIDClient, at now: Date, on connection: PostgresConnection) async throws -> Bool {
        guard let row = try await connection.query(
            "SELECT r.family, a.user_id FROM oidc_refresh_tokens r JOIN accounts a ON a.id = r.account_id WHERE r.token_digest = $1 AND r.client_id = $2",
            [digest, client.clientID]).first else { return false }
        let family = try row.decode([UInt8].self, column: "family")
        let revoked = try await connection.execute(
            "UPDATE oidc_refresh_tokens SET revoked_at = $2 WHERE family = $1 AND revoked_at IS NULL", [family, now])
        guard revoked > 0 else { return true }
        try await connection.execute("UPDATE oidc_access_tokens SET revoked_at = $2 WHERE refresh_family = $1 AND revoked_at IS NULL", [family, now])
        try await audit.record(
            AuditEvent(occurredAt: now, actor: client.clientID, action: "oidc.token_revoke", subject: try row.decode(String.self, column: "user_id"),
                       details: ["client_id": .string(client.clientID), "token_type": .string("refresh_token")]),
            on: connection)
        return true
    }
}
