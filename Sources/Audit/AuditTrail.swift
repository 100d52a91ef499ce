import Crypto
import Foundation
import Postgres

/// Appends to and checks the hash-chained `audit_events` table. `record` takes the caller's
/// connection so the row is written in the same transaction as the change it records.
public struct AuditTrail: Sendable {
    /// Serializes appends so each row sees its true predecessor; held until the caller commits.
    static let chainLockKey: Int64 = 0x5350_5345_4155_4454  // "SPSEAUDT"

    public init() {}

    /// Appends `event`; must run inside the caller's transaction.
    public func record(_ event: AuditEvent, on connection: PostgresConnection) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock($1)", [Self.chainLockKey])
        try await connection.execute(
            """
            INSERT INTO audit_events (occurred_at, actor, action, subject, request_id, details, prev_hash, hash)
            SELECT e.occurred_at, e.actor, e.action, e.subject, e.request_id, e.details, p.hash,
                   sha256(coalesce(p.hash, ''::bytea) || audit_canonical(e.occurred_at, e.actor, e.action, e.subject, e.request_id, e.details))
            FROM (SELECT $1::timestamptz AS occurred_at, $2::text AS actor, $3::text AS action, $4::text AS subject,
                         $5::text AS request_id, $6::jsonb AS details) e
            LEFT JOIN (SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1) p ON true
            """,
            [event.occurredAt, event.actor, event.action, event.subject, event.requestID, JSONB(event.details)])
    }

    /// The outcome of `verify`: how many rows were checked and the first one that is wrong.
    public struct Verification: Sendable, Equatable {
        public let rowsChecked: Int
        /// The id of the first row whose content or link does not match, if any.
        public let firstBrokenRow: Int64?
        public let reason: String?
        public var isIntact: Bool { firstBrokenRow == nil }

        public init(rowsChecked: Int, firstBrokenRow: Int64?, reason: String?) {
            self.rowsChecked = rowsChecked
            self.firstBrokenRow = firstBrokenRow
            self.reason = reason
        }
    }

    /// Recomputes the chain in Swift, independently of the SQL that wrote it, and names the first
    /// row that was edited, or that follows a removed row.
    public func verify(on connection: PostgresConnection, batchSize: Int = 5000) async throws -> Verification {
        var previous: [UInt8]? = nil
        var lastID: Int64 = 0
        var checked = 0
        while true {
            let rows = try await connection.query(
                """
                SELECT id, (extract(epoch FROM occurred_at) * 1000000)::bigint, actor, action, subject, request_id,
                       details::text, prev_hash, hash
                FROM audit_events WHERE id > $1 ORDER BY id LIMIT $2
                """, [lastID, batchSize])
            if rows.count == 0 { break }
            for row in rows {
                let id = try row.decode(Int64.self, at: 0)
                let micros = try row.decode(Int64.self, at: 1)
                let actor = try row.decode(String.self, at: 2)
                let action = try row.decode(String.self, at: 3)
                let subject = try row.decode(String?.self, at: 4)
                let requestID = try row.decode(String?.self, at: 5)
                let details = try row.decode(String.self, at: 6)
                let prevHash = try row.decode([UInt8]?.self, at: 7)
                let hash = try row.decode([UInt8].self, at: 8)
                if prevHash != previous {
                    return Verification(rowsChecked: checked, firstBrokenRow: id, reason: "does not follow its predecessor (a row before it was removed or edited)")
                }
                let canonical = Self.canonical(micros: micros, actor: actor, action: action, subject: subject, requestID: requestID, details: details)
                let expected = Array(SHA256.hash(data: (previous ?? []) + canonical))
                if expected != hash {
                    return Verification(rowsChecked: checked, firstBrokenRow: id, reason: "its content does not match its hash (the row was edited)")
                }
                previous = hash
                lastID = id
                checked += 1
            }
        }
        return Verification(rowsChecked: checked, firstBrokenRow: nil, reason: nil)
    }

    /// Mirrors `audit_canonical` in sql/002_audit_trail.sql; lengths are in characters, as there.
    static func canonical(micros: Int64, actor: String, action: String, subject: String?, requestID: String?, details: String) -> [UInt8] {
        func field(_ value: String?) -> String {
            guard let value else { return "-" }
            return "\(value.unicodeScalars.count):\(value)"
        }
        return Array("\(micros)|\(field(actor))|\(field(action))|\(field(subject))|\(field(requestID))|\(details)".utf8)
    }
}

/// One stored audit row, for reading.
public struct AuditRecord: Sendable, Encodable {
    public let id: Int64
    public let occurredAt: Date
    public let actor: String
    public let action: String
    public let subject: String?
    public let requestID: String?
    /// The details as stored (JSON text).
    public let details: String

    enum CodingKeys: String, CodingKey {
        case id, occurredAt = "occurred_at", actor, action, subject, requestID = "request_id", details
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(occurredAt, forKey: .occurredAt)
        try container.encode(actor, forKey: .actor)
        try container.encode(action, forKey: .action)
        try container.encode(subject, forKey: .subject)
        try container.encode(requestID, forKey: .requestID)
        let object = (try? JSONDecoder().decode([String: AuditValue].self, from: Data(details.utf8))) ?? [:]
        try container.encode(object, forKey: .details)
    }
}

extension AuditTrail {
    /// Rows in [from, to), optionally of one actor or action, oldest first, at most `limit`.
    public func list(from: Date, to: Date, actor: String?, action: String?, limit: Int, on connection: PostgresConnection) async throws -> [AuditRecord] {
        try await connection.query(
            """
            SELECT id, occurred_at, actor, action, subject, request_id, details::text FROM audit_events
            WHERE occurred_at >= $1 AND occurred_at < $2 AND ($3::text IS NULL OR actor = $3) AND ($4::text IS NULL OR action = $4)
            ORDER BY id LIMIT $5
            """, [from, to, actor, action, limit]
        ).map { row in
            AuditRecord(
                id: try row.decode(Int64.self, at: 0), occurredAt: try row.decode(Date.self, at: 1), actor: try row.decode(String.self, at: 2),
                action: try row.decode(String.self, at: 3), subject: try row.decode(String?.self, at: 4),
                requestID: try row.decode(String?.self, at: 5), details: try row.decode(String.self, at: 6))
        }
    }
}
