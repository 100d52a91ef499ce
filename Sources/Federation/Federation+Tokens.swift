import Accounts
import Audit
import Crypto
import Foundation
import Postgres

/// Who authorized: the account and what the browser's session proved.
public struct Authorization: Sendable, Equatable {
    public let accountID: Int64
    public let userID: String
    /// The session's id as relying parties see it (`sid`): stable for the session, and no token.
    public let sid: String
    /// The session's token digest, so a session that ends (sign-out, reset, disable) ends the tokens too.
    public let sessionDigest: [UInt8]
    public let authTime: Date
    /// RFC 8176 values: `pwd`, and `otp` + `mfa` when the second factor was given.
    public let amr: [String]
    public init(accountID: Int64, userID: String, sid: String, sessionDigest: [UInt8], authTime: Date, amr: [String]) {
        (self.accountID, self.userID, self.sid, self.sessionDigest, self.authTime, self.amr) = (accountID, userID, sid, sessionDigest, authTime, amr)
    }
}

/// What the token endpoint answers (RFC 6749 §5.1 with the ID token).
public struct TokenResponse: Sendable, Equatable {
    public let accessToken: String
    public let expiresIn: Int
    /// The ID token of a code redemption (a refresh gives none).
    public let idToken: String?
    public let scope: String
    public let refreshToken: String?
}

extension Federation {
    // MARK: Consent

    /// Whether the account consented to this client for at least these scopes.
    public func consented(_ accountID: Int64, to clientID: String, scopes: [String]) async throws -> Bool {
        try await pool.withConnection { connection in
            let rows = try await connection.query(
                "SELECT array_to_json(scopes)::text AS scopes FROM oidc_consents WHERE account_id = $1 AND client_id = $2", [accountID, clientID])
            guard let granted = try rows.first.map({ Self.strings(try $0.decode(String.self, column: "scopes")) }) else { return false }
            return Set(scopes).isSubset(of: granted)
        }
    }

    public func grantConsent(_ authorization: Authorization, to clientID: String, scopes: [String]) async throws {
        let now = clock.now
        try await pool.withTransaction { connection in
            try await connection.execute(
                """
                INSERT INTO oidc_consents (account_id, client_id, scopes, granted_at) VALUES ($1, $2, ARRAY(SELECT jsonb_array_elements_text($3::jsonb)), $4)
                ON CONFLICT (account_id, client_id) DO UPDATE SET scopes = EXCLUDED.scopes, granted_at = EXCLUDED.granted_at
                """, [authorization.accountID, clientID, Self.json(scopes.sorted()), now])
            try await audit.record(
                AuditEvent(occurredAt: now, actor: authorization.userID, action: "oidc.consent", subject: clientID, details: ["scopes": .strings(scopes)]),
                on: connection)
        }
    }

    // MARK: Codes

    /// An authorization code for `request`, one use, `codeLifetime` of life; only its digest is kept.
    public func issueCode(_ request: AuthorizationRequest, for authorization: Authorization) async throws -> String {
        let code = Base64URL.encode(randomBytes(32))
        let now = clock.now
        try await pool.withTransaction { connection in
            try await connection.execute(
                """
                INSERT INTO oidc_codes (code_digest, client_id, account_id, redirect_uri, code_challenge, nonce, scopes, sid, session_digest,
                                        auth_time, amr, created_at, expires_at)
                VALUES ($1, $2, $3, $4, $5, $6, ARRAY(SELECT jsonb_array_elements_text($7::jsonb)), $8, $9, $10,
                        ARRAY(SELECT jsonb_array_elements_text($11::jsonb)), $12, $13)
                """,
                [Self.digest(code), request.client.clientID, authorization.accountID, request.redirectURI, request.codeChallenge, request.nonce,
                 Self.json(request.scopes), authorization.sid, authorization.sessionDigest, authorization.authTime, Self.json(authorization.amr), now,
                 now.addingTimeInterval(settings.codeLifetime)])
            try await audit.record(
                AuditEvent(occurredAt: now, actor: authorization.userID, action: "oidc.authorize", subject: request.client.clientID,
                           details: ["scopes": .strings(request.scopes), "amr": .strings(authorization.amr)]),
                on: connection)
        }
        return code
    }

    /// Redeems a code once. The code is spent by the first attempt whatever its outcome, so a
    /// wrong verifier cannot be retried; a code presented again revokes what its first use issued
    /// (RFC 6749 §4.1.2). A temporary password, a disabled account or an ended session yields nothing.
    public func redeem(code: String, client: OpenIDClient, redirectURI: String?, verifier: String?) async throws -> TokenResponse {
        let now = clock.now
        let digest = Self.digest(code)
        enum Outcome: Sendable { case refused(String), reused, granted(TokenResponse) }
        let key = try await signingKey()
        let outcome: Outcome = try await pool.withTransaction { connection in
            let rows = try await connection.query(
                """
                UPDATE oidc_codes c SET redeemed_at = $2 FROM accounts a
                WHERE c.code_digest = $1 AND c.redeemed_at IS NULL AND a.id = c.account_id
                RETURNING c.client_id, c.account_id, c.redirect_uri, c.code_challenge, c.nonce, array_to_json(c.scopes)::text AS scopes, c.sid, c.session_digest,
                          c.auth_time, array_to_json(c.amr)::text AS amr, c.expires_at, a.user_id, a.role, a.full_name, a.email, a.agency, a.nip,
                          a.oidc_subject::text AS sub, a.status, a.must_change_password
                """, [digest, now])
            guard let row = rows.first else {
                let revoked = try await connection.execute(
                    "UPDATE oidc_access_tokens SET revoked_at = $2 WHERE code_digest = $1 AND revoked_at IS NULL", [digest, now])
                try await connection.execute(
                    "UPDATE oidc_refresh_tokens SET revoked_at = $2 WHERE code_digest = $1 AND revoked_at IS NULL", [digest, now])
                let known = try await connection.query("SELECT client_id FROM oidc_codes WHERE code_digest = $1", [digest]).first != nil
                if known {
                    try await audit.record(AuditEvent(occurredAt: now, actor: client.clientID, action: "oidc.code_reuse", subject: client.clientID,
                                                      details: ["tokens_revoked": .int(revoked)]), on: connection)
                    return .reused
                }
                return .refused("the code is unknown")
            }
            guard try row.decode(String.self, column: "client_id") == client.clientID else { return .refused("the code was issued to another client") }
            guard try row.decode(Date.self, column: "expires_at") > now else { return .refused("the code has expired") }
            guard redirectURI == (try row.decode(String.self, column: "redirect_uri")) else { return .refused("redirect_uri differs from the authorization request's") }
            if let challenge = try row.decode(String?.self, column: "code_challenge") {
                guard let verifier, (43...128).contains(verifier.utf8.count),
                      verifier.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._~".contains($0)) }),
                      Self.constantTimeEqual(Array(Base64URL.encode(SHA256.hash(data: Data(verifier.utf8))).utf8), Array(challenge.utf8)) else {
                    return .refused("code_verifier does not match the code_challenge")
                }
            } else if verifier != nil {
                return .refused("code_verifier sent for a code issued without PKCE")
            }
            guard try row.decode(String.self, column: "status") == "active", try !row.decode(Bool.self, column: "must_change_password") else {
                return .refused("the account cannot sign in to applications now")
            }
            let accountID = try row.decode(Int64.self, column: "account_id")
            let sid = try row.decode(String.self, column: "sid")
            let scopes = Self.strings(try row.decode(String.self, column: "scopes"))
            let amr = Self.strings(try row.decode(String.self, column: "amr"))
            let userID = try row.decode(String.self, column: "user_id")
            // The browser session that authorized must still be alive: a reset or sign-out in between ends it.
            // Its row is share-locked while the application is recorded as one the session reached, so
            // a revocation racing this redemption waits for it and then queues the application's logout.
            let session = try row.decode([UInt8].self, column: "session_digest")
            guard try await connection.query(
                """
                WITH alive AS (SELECT token_hash FROM sessions WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2 FOR SHARE)
                INSERT INTO oidc_session_clients (session_digest, client_id, account_id, sid, first_at)
                SELECT token_hash, $3, $4, $5, $2 FROM alive
                ON CONFLICT (session_digest, client_id) DO UPDATE SET first_at = oidc_session_clients.first_at
                RETURNING 1
                """, [session, now, client.clientID, accountID, sid]).first != nil else {
                return .refused("the session that authorized this code has ended")
            }
            var grant = Grant(clientID: client.clientID, accountID: accountID, codeDigest: digest, scopes: scopes, sid: sid, sessionDigest: session)
            let refresh = try await issueRefreshToken(grant, generation: 0, at: now, on: connection)
            grant.family = Self.digest(refresh)  // a replayed refresh token revokes this access token too
            let access = try await issueAccessToken(grant, at: now, on: connection)
            var claims: [String: Any] = [
                "iss": settings.issuer, "sub": try row.decode(String.self, column: "sub"), "aud": client.clientID, "azp": client.clientID,
                "iat": Int(now.timeIntervalSince1970), "exp": Int(now.addingTimeInterval(settings.idTokenLifetime).timeIntervalSince1970),
                "auth_time": Int(try row.decode(Date.self, column: "auth_time").timeIntervalSince1970), "sid": sid, "amr": amr,
                "acr": amr.contains("otp") ? Self.acrSecondFactor : Self.acrPassword,
                "at_hash": Base64URL.encode(Array(SHA256.hash(data: Data(access.utf8))).prefix(16)),
            ]
            if let nonce = try row.decode(String?.self, column: "nonce") { claims["nonce"] = nonce }
            let facts = try Self.facts(row)
            for claim in Self.released(scopes: scopes, client: client) { claims[claim] = facts[claim] ?? nil }
            try await audit.record(
                AuditEvent(occurredAt: now, actor: userID, action: "oidc.token", subject: client.clientID, details: ["scopes": .strings(scopes)]),
                on: connection)
            return .granted(TokenResponse(accessToken: access, expiresIn: Int(settings.accessTokenLifetime), idToken: try key.compactJWS(claims),
                                          scope: scopes.joined(separator: " "), refreshToken: refresh))
        }
        switch outcome {
        case .granted(let response): return response
        case .reused: throw FederationError.invalidGrant("the code was already used; the tokens it gave are revoked")
        case .refused(let reason): throw FederationError.invalidGrant(reason)
        }
    }

    public static let acrPassword = "urn:spse:acr:password"
    public static let acrSecondFactor = "urn:spse:acr:password+otp"

    /// The `sid` of the session whose token digest is `digest`: derived, so no table maps it and
    /// it reveals nothing of the token.
    public static func sid(ofSessionDigest digest: [UInt8]) -> String {
        Base64URL.encode(Array(SHA256.hash(data: Data("spse-oidc-sid".utf8) + Data(digest))).prefix(16))
    }

    static func released(scopes: [String], client: OpenIDClient) -> [String] {
        let asked = Set(scopes.flatMap { OpenIDClaims.byScope[$0] ?? [] })
        return client.allowedClaims.filter(asked.contains)
    }

    /// The account's facts by claim name, from a row with the accounts columns.
    static func facts(_ row: PostgresRow) throws -> [String: Any?] {
        ["name": try row.decode(String.self, column: "full_name"), "email": try row.decode(String.self, column: "email"),
         "role": try row.decode(String.self, column: "role"), "agency": try row.decode(String.self, column: "agency"),
         "nip": try row.decode(String?.self, column: "nip"), "preferred_username": try row.decode(String.self, column: "user_id")]
    }

    // MARK: Userinfo

    /// The claims an access token may read: refused once it expired, was revoked, or its browser
    /// session ended (sign-out, a reset through the gate, a disabled account).
    public func userinfo(accessToken: String) async throws -> [String: Any] {
        let now = clock.now
        let found: (claims: [String: String], client: String)? = try await pool.withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT t.client_id, array_to_json(t.scopes)::text AS scopes, a.user_id, a.role, a.full_name, a.email, a.agency, a.nip,
                       a.oidc_subject::text AS sub, array_to_json(c.allowed_claims)::text AS allowed_claims
                FROM oidc_access_tokens t JOIN accounts a ON a.id = t.account_id JOIN oidc_clients c ON c.client_id = t.client_id
                JOIN sessions s ON s.token_hash = t.session_digest
                WHERE t.token_digest = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 AND a.status = 'active' AND NOT a.must_change_password
                  AND s.revoked_at IS NULL AND s.expires_at > $2 AND c.disabled_at IS NULL
                """, [Self.digest(accessToken), now])
            guard let row = rows.first else { return nil }
            let clientID = try row.decode(String.self, column: "client_id")
            let client = OpenIDClient(clientID: clientID, name: "", redirectURIs: [], isConfidential: false,
                                      allowedClaims: Self.strings(try row.decode(String.self, column: "allowed_claims")), backchannelLogoutURI: nil, pkceExempt: false)
            let facts = try Self.facts(row)
            var claims = ["sub": try row.decode(String.self, column: "sub")]
            for claim in Self.released(scopes: Self.strings(try row.decode(String.self, column: "scopes")), client: client) {
                if let value = facts[claim] ?? nil, let text = value as? String { claims[claim] = text }
            }
            return (claims, clientID)
        }
        guard let found else { throw FederationError.invalidToken }
        return found.claims
    }
}
