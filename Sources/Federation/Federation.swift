import Accounts
import Audit
import Crypto
import Foundation
import PasswordHashing
import Postgres

/// The OpenID provider's store: clients, signing keys, consents, codes and access tokens, each
/// secret kept as a digest (or sealed), every change audited in its own transaction.
public struct Federation: Sendable {
    let pool: ConnectionPool
    let clock: ServiceClock
    let secrets: SecretBox?
    let audit: AuditTrail
    let randomBytes: RandomBytes
    public let settings: Settings
    /// Logout outcomes and claim releases a failover kept from the database, replayed first.
    let unsettledLogouts = UnsettledWrites()

    public struct Settings: Sendable {
        /// The issuer URL relying parties are configured with (`SPSE_OIDC_ISSUER`), no trailing slash.
        public var issuer: String
        public var codeLifetime: TimeInterval = 60
        public var accessTokenLifetime: TimeInterval = 300
        public var idTokenLifetime: TimeInterval = 300
        /// A refresh family's tokens expire after this (and sooner, with the session that authorized them).
        public var refreshTokenLifetime: TimeInterval = 86_400
        /// How long after a refresh its token, presented again, gets the same successor (a lost answer).
        public var refreshRetryWindow: TimeInterval = 30
        /// How long a new signing key is published before it signs: longer than relying parties cache the JWKS.
        public var keyPublishedAhead: TimeInterval = 86_400
        public init(issuer: String) { self.issuer = issuer }
    }

    public init(pool: ConnectionPool, clock: ServiceClock, secrets: SecretBox?, audit: AuditTrail, randomBytes: RandomBytes = .system,
                settings: Settings) {
        self.pool = pool
        self.clock = clock
        self.secrets = secrets
        self.audit = audit
        self.randomBytes = randomBytes
        self.settings = settings
    }

    static func digest(_ text: String) -> [UInt8] { Array(SHA256.hash(data: Data(text.utf8))) }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    static func json(_ strings: [String]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: strings), as: UTF8.self)  // an array of strings always encodes
    }

    static func strings(_ json: String) -> [String] {
        (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String] ?? []
    }

    // MARK: Clients

    /// Registers a client; a confidential one gets its secret here, shown this once.
    public func register(_ registration: ClientRegistration, by actor: String) async throws -> (client: OpenIDClient, secret: String?) {
        let checked = try registration.validated()
        let secret = checked.confidential && checked.keys.isEmpty ? Base64URL.encode(randomBytes(32)) : nil
        let jwks = checked.keys.isEmpty ? nil
            : String(decoding: try JSONSerialization.data(withJSONObject: checked.keys.map(\.jwk), options: [.sortedKeys]), as: UTF8.self)
        let client = OpenIDClient(clientID: checked.clientID, name: checked.name, redirectURIs: checked.redirectURIs, isConfidential: checked.confidential,
                                  allowedClaims: checked.allowedClaims, backchannelLogoutURI: checked.backchannelLogoutURI, pkceExempt: checked.pkceExempt,
                                  postLogoutRedirectURIs: checked.postLogoutRedirectURIs, keys: checked.keys)
        let now = clock.now
        do {
            try await pool.withTransaction { connection in
                try await connection.execute(
                    """
                    INSERT INTO oidc_clients (client_id, name, redirect_uris, secret_digest, allowed_claims, backchannel_logout_uri, pkce_exempt,
                                              created_at, created_by, post_logout_redirect_uris, jwks)
                    VALUES ($1, $2, ARRAY(SELECT jsonb_array_elements_text($3::jsonb)), $4, ARRAY(SELECT jsonb_array_elements_text($5::jsonb)),
                            $6, $7, $8, $9, ARRAY(SELECT jsonb_array_elements_text($10::jsonb)), $11::jsonb)
                    """,
                    [checked.clientID, checked.name, Self.json(checked.redirectURIs), secret.map(Self.digest), Self.json(checked.allowedClaims),
                     checked.backchannelLogoutURI, checked.pkceExempt, now, actor, Self.json(checked.postLogoutRedirectURIs), jwks])
                try await audit.record(
                    AuditEvent(occurredAt: now, actor: actor, action: "oidc.client_register", subject: checked.clientID, details: [
                        "redirect_uris": .strings(checked.redirectURIs), "confidential": .bool(checked.confidential),
                        "allowed_claims": .strings(checked.allowedClaims), "pkce_exempt": .bool(checked.pkceExempt),
                        "post_logout_redirect_uris": .strings(checked.postLogoutRedirectURIs),
                        "backchannel_logout": .bool(checked.backchannelLogoutURI != nil),
                        "token_endpoint_auth": .string(client.tokenEndpointAuthMethod),
                    ]), on: connection)
            }
        } catch let error as PostgresError where error.sqlState == .uniqueViolation {
            throw FederationError.clientExists
        }
        return (client, secret)
    }

    static let clientColumns = """
        client_id, name, array_to_json(redirect_uris)::text AS redirect_uris, secret_digest, array_to_json(allowed_claims)::text AS allowed_claims,
        backchannel_logout_uri, pkce_exempt, array_to_json(post_logout_redirect_uris)::text AS post_logout_redirect_uris,
        jwks::text AS jwks
        """

    static func client(_ row: PostgresRow) throws -> (OpenIDClient, [UInt8]?) {
        let digest = try row.decode([UInt8]?.self, column: "secret_digest")
        let keys = try row.decode(String?.self, column: "jwks").flatMap { try? VerifyingKey.parse(jwks: $0).get() } ?? []
        return (OpenIDClient(clientID: try row.decode(String.self, column: "client_id"), name: try row.decode(String.self, column: "name"),
                             redirectURIs: strings(try row.decode(String.self, column: "redirect_uris")), isConfidential: digest != nil || !keys.isEmpty,
                             allowedClaims: strings(try row.decode(String.self, column: "allowed_claims")),
                             backchannelLogoutURI: try row.decode(String?.self, column: "backchannel_logout_uri"),
                             pkceExempt: try row.decode(Bool.self, column: "pkce_exempt"),
                             postLogoutRedirectURIs: strings(try row.decode(String.self, column: "post_logout_redirect_uris")), keys: keys), digest)
    }

    /// An enabled client, or nil (unknown and disabled alike).
    public func client(_ clientID: String) async throws -> OpenIDClient? {
        guard clientID.utf8.count <= 64 else { return nil }
        return try await pool.withConnection { connection in
            try await connection.query("SELECT \(Self.clientColumns) FROM oidc_clients WHERE client_id = $1 AND disabled_at IS NULL", [clientID])
                .first.map { try Self.client($0).0 }
        }
    }

    public func clients() async throws -> [OpenIDClient] {
        try await pool.withConnection { connection in
            try await connection.query("SELECT \(Self.clientColumns) FROM oidc_clients WHERE disabled_at IS NULL ORDER BY client_id").map { try Self.client($0).0 }
        }
    }

    /// The client a token request authenticates as: a confidential client by its secret (compared
    /// as digests in constant time, the same work for an unknown client), a public one by its id alone.
    public func authenticate(clientID: String, secret: String?) async throws -> OpenIDClient {
        let found = clientID.utf8.count <= 64 ? try await pool.withConnection { connection in
            try await connection.query("SELECT \(Self.clientColumns) FROM oidc_clients WHERE client_id = $1 AND disabled_at IS NULL", [clientID])
                .first.map(Self.client)
        } : nil
        let presented = Self.digest(secret ?? "")
        let matches = Self.constantTimeEqual(found?.1 ?? Array(repeating: 0, count: 32), presented)
        guard let (client, digest) = found else { throw FederationError.invalidClient }
        guard client.keys.isEmpty else { throw FederationError.invalidClient }  // a client with keys proves itself with them only
        if digest != nil { guard secret != nil, matches else { throw FederationError.invalidClient } }
        else if secret != nil { throw FederationError.invalidClient }  // a public client has no secret to send
        return client
    }

    /// The `client_assertion_type` of `private_key_jwt` (RFC 7523 §2.2).
    public static let clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

    /// The client a `private_key_jwt` assertion authenticates (RFC 7523 §3): signed by one of its
    /// keys, for this provider's token endpoint (or its issuer), short-lived, and never seen before
    /// — its `jti` is kept until it expires, so a replay is refused even by another instance.
    public func authenticate(assertion: String, clientID: String?) async throws -> OpenIDClient {
        // The client is the assertion's issuer; a client_id beside it must agree.
        guard let jws = CompactJWS(assertion), let issuer = jws.claims["iss"] as? String, clientID == nil || clientID == issuer,
              let client = try await self.client(issuer), !client.keys.isEmpty else {
            throw FederationError.invalidClient
        }
        let now = clock.now
        guard let checked = ClientAssertion.verify(jws, keys: client.keys, clientID: client.clientID,
                                                   audiences: [settings.issuer + "/oauth/token", settings.issuer], now: now) else {
            throw FederationError.invalidClient
        }
        let fresh = try await pool.withConnection { connection in
            try await connection.query(
                """
                WITH spent AS (DELETE FROM oidc_client_assertions WHERE client_id = $1 AND expires_at < $4)
                INSERT INTO oidc_client_assertions (client_id, jti, expires_at) VALUES ($1, $2, $3)
                ON CONFLICT (client_id, jti) DO NOTHING RETURNING 1
                """, [client.clientID, checked.jti, checked.expiresAt, now]).first != nil
        }
        guard fresh else { throw FederationError.invalidClient }
        return client
    }
}
