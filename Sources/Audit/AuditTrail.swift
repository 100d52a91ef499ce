import Crypto
import Foundation
import Postgres

/// Appends to and checks the hash-chained `audit_events` table. `record` takes the caller's
/// connection so the row is written in the same transaction as the change it records — unsealed,
/// with no lock and no read of the chain, so audited writes run in parallel. `seal` (one sealer at
/// a time: `serve` every `SPSE_AUDIT_SEAL_INTERVAL_MS`, or `audit seal`) chains the committed rows
/// in the order it finds them (`sql/014_audit_sequencer.sql`).
public struct AuditTrail: Sendable {
    /// A row left unsealed longer than this is reported by `verify`: no sealer is running.
    public static let unsealedBound: TimeInterval = 60

    public init() {}

    /// Appends `event`; must run inside the caller's transaction.
    public func record(_ event: AuditEvent, on connection: PostgresConnection) async throws {
        try await record([event], on: connection)
    }

    /// Appends `events` in one statement (a step's rows, at its end), in the caller's transaction;
    /// `committing`: as its last statement, sent with its COMMIT.
    public func record(_ events: [AuditEvent], on connection: PostgresConnection, committing: Bool = false) async throws {
        guard !events.isEmpty else { return }
        var statement = CompositeStatement()
        let insert = Self.insert(events, into: &statement)
        if committing {
            try await connection.queryCommitting(insert, statement.parameters)
        } else {
            try await connection.execute(insert, statement.parameters)
        }
    }

    /// The INSERT of `events`, its values bound into `statement`: as a part of a larger statement
    /// (a step's one write) or alone. Rows go in unsealed; the sealer chains them once committed.
    public static func insert(_ events: [AuditEvent], into statement: inout CompositeStatement) -> String {
        let rows = events.map { event in
            "(" + [statement.bind(event.occurredAt, as: "timestamptz"), statement.bind(event.actor, as: "text"),
                   statement.bind(event.action, as: "text"), statement.bind(event.subject, as: "text"),
                   statement.bind(event.requestID, as: "text"), statement.bind(JSONB(event.details), as: "jsonb")].joined(separator: ", ") + ")"
        }
        return "INSERT INTO audit_events (occurred_at, actor, action, subject, request_id, details) VALUES " + rows.joined(separator: ", ")
    }

    /// Chains every committed unsealed row; returns how many. Another sealer at work makes this a
    /// no-op (0): its round seals them.
    @discardableResult
    public func seal(on connection: PostgresConnection, batch: Int = 5000) async throws -> Int {
        var total = 0
        while true {
            let sealed = try await connection.query("SELECT audit_seal($1) AS sealed", [batch]).first?.decode(Int.self, column: "sealed") ?? 0
            total += sealed
            if sealed < batch { return total }
        }
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
    public func verify(on connection: PostgresConnection, batchSize: Int = 5000,
                       unsealedBound: TimeInterval = AuditTrail.unsealedBound) async throws -> Verification {
        var previous: [UInt8]? = nil
        var lastSeq: Int64 = 0
        var checked = 0
        while true {
            let rows = try await connection.query(
                """
                SELECT id, (extract(epoch FROM occurred_at) * 1000000)::bigint, actor, action, subject, request_id,
                       details::text, prev_hash, hash, seq
                FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2
                """, [lastSeq, batchSize])
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
                let seq = try row.decode(Int64.self, at: 9)
                if prevHash != previous {
                    return Verification(rowsChecked: checked, firstBrokenRow: id, reason: "does not follow its predecessor (a row before it was removed or edited)")
                }
                let canonical = Self.canonical(micros: micros, actor: actor, action: action, subject: subject, requestID: requestID, details: details)
                let expected = Array(SHA256.hash(data: (previous ?? []) + canonical))
                if expected != hash {
                    return Verification(rowsChecked: checked, firstBrokenRow: id, reason: "its content does not match its hash (the row was edited)")
                }
                previous = hash
                lastSeq = seq
                checked += 1
            }
        }
        if let stale = try await staleUnsealed(on: connection, bound: unsealedBound) { return stale.verification(checked: checked) }
        return Verification(rowsChecked: checked, firstBrokenRow: nil, reason: nil)
    }

    /// What `audit verify` (CLI and API) reports: a row that waited past the bound, even though
    /// this check then seals it as a sealer would; else the chain as it stands once sealed.
    public func sealAndVerify(on connection: PostgresConnection) async throws -> Verification {
        let stale = try await staleUnsealed(on: connection)
        try await seal(on: connection)
        let verification = try await verify(on: connection)
        if let stale, verification.isIntact { return stale.verification(checked: verification.rowsChecked) }
        return verification
    }

    /// A row left unsealed longer than `bound`.
    public struct Stale: Sendable {
        public let id: Int64
        public let waited: Int
        public let bound: Int
        public func verification(checked: Int) -> Verification {
            Verification(rowsChecked: checked, firstBrokenRow: id,
                         reason: "unsealed for \(waited) s, longer than \(bound) s (is a sealer — serve, or `audit seal` — running?)")
        }
    }

    /// The oldest row the sealer should long have chained: no sealer runs, or none keeps up.
    public func staleUnsealed(on connection: PostgresConnection, bound: TimeInterval = AuditTrail.unsealedBound) async throws -> Stale? {
        guard let row = try await connection.query(
            """
            SELECT id, extract(epoch FROM now() - recorded_at)::float8 AS waited FROM audit_events
            WHERE seq IS NULL AND recorded_at < now() - make_interval(secs => $1) ORDER BY id LIMIT 1
            """, [bound]).first else { return nil }
        return Stale(id: try row.decode(Int64.self, column: "id"), waited: Int(try row.decode(Double.self, column: "waited")), bound: Int(bound))
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
    /// Which rows `list` reads: the period, and optionally who acted, what (a verb, or a family:
    /// `login` finds `login.success` and `login.failure`), on whom, under which request, and only
    /// rows after a given id (the next page).
    public struct Filter: Sendable, Equatable {
        public var from: Date
        public var to: Date
        public var actor: String?
        public var action: String?
        public var subject: String?
        public var requestID: String?
        public var afterID: Int64?
        public init(from: Date, to: Date, actor: String? = nil, action: String? = nil, subject: String? = nil, requestID: String? = nil,
                    afterID: Int64? = nil) {
            self.from = from
            self.to = to
            self.actor = actor
            self.action = action
            self.subject = subject
            self.requestID = requestID
            self.afterID = afterID
        }
    }

    /// Rows matching `filter`, oldest first, at most `limit`.
    public func list(_ filter: Filter, limit: Int, on connection: PostgresConnection) async throws -> [AuditRecord] {
        try await connection.query(
            """
            SELECT id, occurred_at, actor, action, subject, request_id, details::text FROM audit_events
            WHERE occurred_at >= $1 AND occurred_at < $2 AND ($3::text IS NULL OR actor = $3)
              AND ($4::text IS NULL OR action = $4 OR starts_with(action, $4 || '.'))
              AND ($5::text IS NULL OR subject = $5) AND ($6::text IS NULL OR request_id = $6) AND ($7::bigint IS NULL OR id > $7)
            ORDER BY id LIMIT $8
            """, [filter.from, filter.to, filter.actor, filter.action, filter.subject, filter.requestID, filter.afterID, limit]
        ).map { row in
            AuditRecord(
                id: try row.decode(Int64.self, at: 0), occurredAt: try row.decode(Date.self, at: 1), actor: try row.decode(String.self, at: 2),
                action: try row.decode(String.self, at: 3), subject: try row.decode(String?.self, at: 4),
                requestID: try row.decode(String?.self, at: 5), details: try row.decode(String.self, at: 6))
        }
    }
}
