import Accounts
import Crypto
import Foundation
import Inputs
import Postgres

/// Facts every instance of one deployment must agree on, recorded in the database by the first
/// instance (or CLI) to start and checked by every later one, which refuses to start, naming the
/// setting, when it disagrees: which secrets key seals the database's secrets, and whether
/// temporary passwords go by sealed delivery. A second instance configured differently would
/// otherwise answer 500 on every enrolled operator's code, or deliver a sealed half in clear.
public enum DeploymentFacts {
    /// The secrets key that opens this database's sealed secrets, from `path`: the key file's
    /// check value must be the one recorded. A missing file is made only when the database holds
    /// nothing sealed under another key; a key that opens nothing is never accepted.
    public static func secretsKey(at path: String, pool: ConnectionPool, now: Date) async throws -> SecretBox {
        let refused = { (reason: String) in
            SettingsError(variable: "SPSE_SECRETS_KEY_FILE", accepts: "the key this database's secrets were sealed with (\(reason))")
        }
        let recorded = try await pool.withConnection { try await value("secrets_key_check", on: $0) }
        let sealedRow = try await pool.withConnection { connection in
            try await connection.query("SELECT account_id, secret_sealed FROM account_totp ORDER BY account_id LIMIT 1").first
        }
        let box: SecretBox
        if let existing = try SecretBox.loadExisting(path: path) {
            box = existing
        } else {
            // A new key beside secrets sealed with another would void them all, silently.
            if recorded != nil { throw refused("\(path) does not exist, and the database records another key's check value") }
            if sealedRow != nil { throw refused("\(path) does not exist, and the database holds secrets sealed with a key") }
            box = try SecretBox.load(path: path)
        }
        let check = checkValue(of: box)
        if let recorded {
            guard constantTimeEqual(recorded, check) else { throw refused("\(path) holds another key: its check value differs") }
            return box
        }
        // Recorded by the first start since the check existed: the key must open what is sealed.
        if let sealedRow {
            let accountID = try sealedRow.decode(Int64.self, column: "account_id")
            guard (try? box.open(try sealedRow.decode([UInt8].self, column: "secret_sealed"), context: "totp-secret:\(accountID)")) != nil else {
                throw refused("\(path) does not open the secrets already sealed in the database")
            }
        }
        let agreed = try await record("secrets_key_check", check, now: now, pool: pool)
        guard constantTimeEqual(agreed, check) else { throw refused("another instance recorded another key at the same time") }
        return box
    }

    /// Sealed delivery is on or off for the whole deployment: an instance that disagrees with
    /// the recorded mode refuses to start (`spse-accounts deployment sealed-delivery` changes it).
    public static func agreeOnSealedDelivery(_ enabled: Bool, pool: ConnectionPool, now: Date) async throws {
        let agreed = try await record("sealed_delivery", enabled ? "true" : "false", now: now, pool: pool)
        guard agreed == (enabled ? "true" : "false") else {
            throw SettingsError(
                variable: "SPSE_SEALED_DELIVERY",
                accepts: "\(agreed), as recorded for this deployment (every instance delivers temporary passwords the same way; "
                    + "change it for all with `spse-accounts deployment sealed-delivery`)")
        }
    }

    /// Changes the recorded delivery mode (an operator's decision for every instance at once).
    public static func setSealedDelivery(_ enabled: Bool, pool: ConnectionPool, now: Date) async throws {
        try await pool.withConnection { connection in
            try await connection.execute(
                """
                INSERT INTO deployment_facts (name, value, recorded_at) VALUES ('sealed_delivery', $1, $2)
                ON CONFLICT (name) DO UPDATE SET value = excluded.value, recorded_at = excluded.recorded_at
                """, [enabled ? "true" : "false", now])
        }
    }

    /// HMAC of a fixed text under the key: tells keys apart, reveals nothing of them.
    static func checkValue(of box: SecretBox) -> String {
        Hex.encode(box.mac("spse deployment secrets-key check").prefix(16))
    }

    /// Records `value` unless a value is already recorded; returns the recorded one.
    private static func record(_ name: String, _ value: String, now: Date, pool: ConnectionPool) async throws -> String {
        try await pool.withConnection { connection in
            try await connection.execute(
                "INSERT INTO deployment_facts (name, value, recorded_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING", [name, value, now])
            return try await Self.value(name, on: connection) ?? value
        }
    }

    private static func value(_ name: String, on connection: PostgresConnection) async throws -> String? {
        try await connection.query("SELECT value FROM deployment_facts WHERE name = $1", [name]).first?.decode(String.self, column: "value")
    }

    private static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
