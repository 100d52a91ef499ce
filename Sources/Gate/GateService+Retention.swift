import Accounts
import Audit
import Foundation
import Postgres

/// A request whose documents the retention purge emptied.
public struct PurgedFile: Sendable, Equatable, Codable {
    public let request: String
    public let documents: Int
    public let bytes: Int
    public init(request: String, documents: Int, bytes: Int) {
        self.request = request
        self.documents = documents
        self.bytes = bytes
    }
}

extension GateService {
    /// Rejects, as the service, every file left incomplete for longer than `abandonAfter`: each
    /// its own step with its rejection notice and audit row. Returns the request numbers.
    @discardableResult
    public func abandonExpired() async throws -> [String] {
        let now = clock.now
        let due = try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT r.id FROM requests r
                WHERE r.state IN ('incomplete', 'awaiting_supplement')
                  AND \(Self.incompleteSince)
                      <= $1
                ORDER BY r.id LIMIT 500
                """, [now.addingTimeInterval(-abandonAfter)]
            ).map { try $0.decode(Int64.self, column: "id") }
        }
        var abandoned: [String] = []
        for id in due {
            do {
                abandoned.append(try await act(.abandon(at: now, after: abandonAfter), on: id, by: .system).request.number)
            } catch GateError.wrongState {
                continue  // supplemented (or abandoned by another instance) since the query
            }
        }
        return abandoned
    }

    /// Empties the documents of files archived more than `retention` ago; the request, its steps,
    /// each document's name, size and SHA-256, and the audit trail stay. One audit row per file.
    public func purgeDocuments(olderThan retention: TimeInterval, by actor: Actor) async throws -> [PurgedFile] {
        let now = clock.now
        return try await pool.withTransaction { connection in
            let rows = try await connection.query(
                """
                WITH due AS (
                    SELECT d.id FROM request_documents d JOIN requests r ON r.id = d.request_id
                    WHERE r.state = 'archived' AND d.purged_at IS NULL
                      AND (SELECT max(ended_at) FROM request_steps s WHERE s.request_id = r.id AND s.step = 9) <= $1
                    FOR UPDATE OF d)
                UPDATE request_documents d SET content = ''::bytea, purged_at = $2 FROM due WHERE d.id = due.id
                RETURNING d.request_id, d.size
                """, [now.addingTimeInterval(-retention), now])
            var perRequest: [Int64: (documents: Int, bytes: Int)] = [:]
            for row in rows {
                let id = try row.decode(Int64.self, column: "request_id")
                perRequest[id, default: (0, 0)].documents += 1
                perRequest[id, default: (0, 0)].bytes += try row.decode(Int.self, column: "size")
            }
            var purged: [PurgedFile] = []
            for (id, counts) in perRequest.sorted(by: { $0.key < $1.key }) {
                let request = try await Self.load(id, on: connection)
                try await audit.record(
                    AuditEvent(occurredAt: now, actor: actor.userID, action: "request.documents_purged", subject: request.number,
                               requestID: request.number, details: ["documents": .int(counts.documents), "bytes": .int(counts.bytes)]),
                    on: connection)
                purged.append(PurgedFile(request: request.number, documents: counts.documents, bytes: counts.bytes))
            }
            return purged
        }
    }
}

/// Step 6's limit for one of SPSE's problem priorities.
public struct PriorityLimit: Sendable, Equatable, Codable {
    public let priority: Priority
    public let step6Minutes: Int
    public let updatedBy: String
    public let updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case priority, step6Minutes = "step6_minutes", updatedBy = "updated_by", updatedAt = "updated_at"
    }
}

extension GateService {
    public func priorityLimits() async throws -> [PriorityLimit] {
        try await pool.withConnection { try await Self.priorityLimits(on: $0) }
    }

    static func priorityLimits(on connection: PostgresConnection) async throws -> [PriorityLimit] {
        try await connection.query(
            """
            SELECT priority, step6_minutes, updated_by, updated_at FROM priority_limits
            ORDER BY array_position(ARRAY['urgent', 'high', 'normal', 'low'], priority)
            """
        ).map { row in
            guard let priority = Priority(rawValue: try row.decode(String.self, column: "priority")) else {
                throw PostgresError.decoding(column: "priority", type: "Priority")
            }
            return PriorityLimit(priority: priority, step6Minutes: try row.decode(Int.self, column: "step6_minutes"),
                                 updatedBy: try row.decode(String.self, column: "updated_by"), updatedAt: try row.decode(Date.self, column: "updated_at"))
        }
    }

    /// Sets step 6's limit for a priority (steps already open keep theirs), audited with the old value.
    public func setPriorityLimit(_ priority: Priority, minutes: Int, by actor: Actor) async throws -> [PriorityLimit] {
        let now = clock.now
        return try await pool.withTransaction { connection in
            let old = try await connection.query(
                "SELECT step6_minutes FROM priority_limits WHERE priority = $1 FOR UPDATE", [priority.rawValue]
            ).first?.decode(Int.self, column: "step6_minutes")
            try await connection.execute(
                "UPDATE priority_limits SET step6_minutes = $2, updated_by = $3, updated_at = $4 WHERE priority = $1",
                [priority.rawValue, minutes, actor.userID, now])
            try await audit.record(
                AuditEvent(occurredAt: now, actor: actor.userID, action: "standards.priority_limit", subject: priority.rawValue,
                           details: ["from_minutes": old.map { .int($0) } ?? .string("-"), "to_minutes": .int(minutes)]),
                on: connection)
            return try await Self.priorityLimits(on: connection)
        }
    }
}
