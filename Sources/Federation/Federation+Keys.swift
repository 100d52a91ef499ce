import Accounts
import Audit
import Foundation
import Postgres

/// Signing keys: sealed with the deployment's secrets key, published in the JWKS from the moment
/// they are made, signing only from `signs_from` — so a rotation never signs with a key a relying
/// party has not had the chance to fetch.
extension Federation {
    static let keyLock: Int64 = 0x5350_5345_4f49_4443  // "SPSEOIDC"

    static func keyContext(_ kid: String) -> String { "oidc-signing-key:\(kid)" }

    /// The key that signs with `algorithm` now; the first key of each algorithm is made at first
    /// use (no relying party can have cached a JWKS before there was one).
    public func signingKey(_ algorithm: SigningKey.Algorithm = .es256) async throws -> SigningKey {
        guard let secrets else { throw FederationError.signingUnavailable }
        let now = clock.now
        if let key = try await pool.withConnection({ try await currentKey(algorithm, at: now, box: secrets, on: $0) }) { return key }
        return try await pool.withTransaction { connection in
            try await connection.execute("SELECT pg_advisory_xact_lock($1)", [Self.keyLock])
            if let key = try await currentKey(algorithm, at: now, box: secrets, on: connection) { return key }
            return try await addKey(algorithm, signsFrom: now, box: secrets, by: "(system)", on: connection)
        }
    }

    func currentKey(_ algorithm: SigningKey.Algorithm, at now: Date, box: SecretBox, on connection: PostgresConnection) async throws -> SigningKey? {
        let rows = try await connection.query(
            """
            SELECT kid, sealed_key FROM oidc_signing_keys
            WHERE alg = $1 AND signs_from <= $2 AND (retired_at IS NULL OR retired_at > $2)
            ORDER BY signs_from DESC LIMIT 1
            """, [algorithm.rawValue, now])
        guard let row = rows.first else { return nil }
        let kid = try row.decode(String.self, column: "kid")
        return try SigningKey(algorithm: algorithm, privateBytes: try box.open(try row.decode([UInt8].self, column: "sealed_key"), context: Self.keyContext(kid)))
    }

    func addKey(_ algorithm: SigningKey.Algorithm, signsFrom: Date, box: SecretBox, by actor: String, on connection: PostgresConnection) async throws -> SigningKey {
        let key = try SigningKey.generate(algorithm)
        let jwk = String(decoding: try JSONSerialization.data(withJSONObject: key.publicJWK, options: [.sortedKeys]), as: UTF8.self)
        let now = clock.now
        try await connection.execute(
            "INSERT INTO oidc_signing_keys (kid, alg, sealed_key, public_jwk, created_at, signs_from) VALUES ($1, $2, $3, $4::jsonb, $5, $6)",
            [key.kid, algorithm.rawValue, try box.seal(key.privateBytes, context: Self.keyContext(key.kid)), jwk, now, signsFrom])
        try await audit.record(
            AuditEvent(occurredAt: now, actor: actor, action: "oidc.key_add", subject: key.kid,
                       details: ["alg": .string(algorithm.rawValue), "signs_from": .string(ISO8601DateFormatter().string(from: signsFrom))]),
            on: connection)
        return key
    }

    /// Publishes the next key of each algorithm now; it signs once `keyPublishedAhead` has passed,
    /// and the key it replaces stays published long enough to verify what it signed.
    public func rotateKeys(by actor: String) async throws -> [(kid: String, algorithm: String, signsFrom: Date)] {
        guard let secrets else { throw FederationError.signingUnavailable }
        let now = clock.now
        let signsFrom = now.addingTimeInterval(settings.keyPublishedAhead)
        return try await pool.withTransaction { connection in
            try await connection.execute("SELECT pg_advisory_xact_lock($1)", [Self.keyLock])
            // Keys two generations old stop being published once their last token has expired.
            try await connection.execute(
                """
                UPDATE oidc_signing_keys k SET retired_at = $1
                WHERE retired_at IS NULL AND signs_from < (SELECT max(signs_from) FROM oidc_signing_keys n WHERE n.alg = k.alg AND n.signs_from <= $2)
                """, [signsFrom.addingTimeInterval(settings.idTokenLifetime), now])
            var added: [(String, String, Date)] = []
            for algorithm in SigningKey.Algorithm.allCases {
                let key = try await addKey(algorithm, signsFrom: signsFrom, box: secrets, by: actor, on: connection)
                added.append((key.kid, algorithm.rawValue, signsFrom))
            }
            return added
        }
    }

    /// The JWKS: every key made and not yet retired, the next ones included.
    public func jwks() async throws -> [[String: String]] {
        if secrets != nil {
            for algorithm in SigningKey.Algorithm.allCases { _ = try await signingKey(algorithm) }
        }
        let now = clock.now
        return try await pool.withConnection { connection in
            try await connection.query(
                "SELECT public_jwk::text AS jwk FROM oidc_signing_keys WHERE retired_at IS NULL OR retired_at > $1 ORDER BY created_at", [now]
            ).compactMap { row in
                (try JSONSerialization.jsonObject(with: Data(try row.decode(String.self, column: "jwk").utf8))) as? [String: String]
            }
        }
    }
}
