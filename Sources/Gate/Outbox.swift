import Accounts
import Foundation
import Postgres

/// A notice as handed to a sender.
public struct OutgoingNotice: Sendable, Equatable, Codable {
    public let id: Int64
    public let requestNumber: String
    public let step: Int
    public let recipient: String
    public let channel: String
    public let subjectID: String
    public let bodyID: String
    public let subjectEN: String
    public let bodyEN: String

    public init(id: Int64, requestNumber: String, step: Int, recipient: String, channel: String,
                subjectID: String, bodyID: String, subjectEN: String, bodyEN: String) {
        self.id = id
        self.requestNumber = requestNumber
        self.step = step
        self.recipient = recipient
        self.channel = channel
        self.subjectID = subjectID
        self.bodyID = bodyID
        self.subjectEN = subjectEN
        self.bodyEN = bodyEN
    }
}

/// A failure no retry can mend (the recipient is not an address this sender can reach): the
/// notice stays in the outbox, undelivered, with the reason, and is not tried again.
public enum NoticeSenderError: Error, Sendable, Equatable, CustomStringConvertible {
    case undeliverable(String)
    public var description: String {
        switch self {
        case .undeliverable(let reason): return "undeliverable: \(reason)"
        }
    }
}

/// Delivers one notice; throws when it could not (the dispatcher retries later).
public protocol NoticeSender: Sendable {
    func send(_ notice: OutgoingNotice) async throws
}

/// The default sender: one JSON line per notice appended to a file, for an operator (or a mail
/// relay script) to pick up. Fails while the file's directory does not exist or is not writable.
public struct FileNoticeSender: NoticeSender {
    public let path: String
    public init(path: String) { self.path = path }

    public func send(_ notice: OutgoingNotice) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = try encoder.encode(notice)
        line.append(0x0A)
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o640]) else {
                throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
            }
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
    }
}

/// Sends what the outbox holds. The outbox table is the source of truth: a notice is marked
/// delivered only after its sender succeeded, failures are retried with doubling delays (1 min …
/// 1 h), and a restarted dispatcher simply carries on. Several dispatchers may run at once.
public struct OutboxDispatcher: Sendable {
    let pool: ConnectionPool
    let sender: any NoticeSender
    let clock: ServiceClock

    public init(pool: ConnectionPool, sender: any NoticeSender, clock: ServiceClock) {
        self.pool = pool
        self.sender = sender
        self.clock = clock
    }

    /// Delay before attempt `attempts + 1`.
    public static func backoff(afterAttempts attempts: Int) -> TimeInterval {
        min(3600, 60 * pow(2, Double(max(0, attempts - 1))))
    }

    /// Tries every notice that is due; returns how many were delivered and how many failed.
    @discardableResult
    public func deliverDue(limit: Int = 100) async throws -> (delivered: Int, failed: Int) {
        let now = clock.now
        return try await pool.withTransaction { connection in
            let rows = try await connection.query(
                """
                SELECT o.id, r.number, o.step, o.recipient, o.channel, o.subject_id, o.body_id, o.subject_en, o.body_en, o.attempts
                FROM outbox o JOIN requests r ON r.id = o.request_id
                WHERE o.delivered_at IS NULL AND o.next_attempt_at <= $1
                ORDER BY o.id LIMIT $2
                FOR UPDATE OF o SKIP LOCKED
                """, [now, limit])
            var delivered = 0
            var failed = 0
            for row in rows {
                let notice = OutgoingNotice(
                    id: try row.decode(Int64.self, at: 0), requestNumber: try row.decode(String.self, at: 1), step: try row.decode(Int.self, at: 2),
                    recipient: try row.decode(String.self, at: 3), channel: try row.decode(String.self, at: 4),
                    subjectID: try row.decode(String.self, at: 5), bodyID: try row.decode(String.self, at: 6),
                    subjectEN: try row.decode(String.self, at: 7), bodyEN: try row.decode(String.self, at: 8))
                let attempts = try row.decode(Int.self, at: 9) + 1
                do {
                    try await sender.send(notice)
                    try await connection.execute("UPDATE outbox SET delivered_at = $2, attempts = $3, last_error = NULL WHERE id = $1",
                                                 [notice.id, now, attempts])
                    delivered += 1
                } catch let error as NoticeSenderError {
                    try await connection.execute(
                        "UPDATE outbox SET attempts = $2, next_attempt_at = 'infinity', last_error = $3 WHERE id = $1",
                        [notice.id, attempts, error.description])
                    failed += 1
                } catch {
                    try await connection.execute(
                        "UPDATE outbox SET attempts = $2, next_attempt_at = $3, last_error = $4 WHERE id = $1",
                        [notice.id, attempts, now.addingTimeInterval(Self.backoff(afterAttempts: attempts)), String(describing: error).prefix(500)])
                    failed += 1
                }
            }
            return (delivered, failed)
        }
    }
}
