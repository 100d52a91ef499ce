import Accounts
import Foundation
import PasswordHashing
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

/// A sealed half the key at hand cannot open (a changed key file): retried, never sent blank.
struct SealedHalfError: Error, CustomStringConvertible {
    var description: String { "the sealed half cannot be opened with this secrets key" }
}

/// Delivers one notice; throws when it could not (the dispatcher retries later).
public protocol NoticeSender: Sendable {
    func send(_ notice: OutgoingNotice) async throws
    /// Whether this sender is the sealed channel (SMTP to the address on file): only such a sender
    /// is ever handed the sealed half of a temporary password, whichever instance runs it.
    var isSealedChannel: Bool { get }
}

extension NoticeSender {
    public var isSealedChannel: Bool { false }
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
        // O_APPEND: each line lands at the end in one write even when deliveries of this process
        // run at once (a seek then a write let two of them overwrite each other's line); synced
        // before the notice is marked delivered.
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        defer { close(fd) }
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(fd) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
    }
}

/// Sends what the outbox holds. The outbox table is the source of truth: a notice is marked
/// delivered only after its sender succeeded, failures are retried with doubling delays (1 min …
/// 1 h), and a restarted dispatcher simply carries on. Several dispatchers may run at once.
public struct OutboxDispatcher: Sendable {
    let pool: ConnectionPool
    let sender: any NoticeSender
    let clock: ServiceClock
    /// Opens the sealed half of a temporary password at the moment its notice is sent.
    let secrets: SecretBox?
    /// Outcomes and claim releases a failover kept from the database, replayed before each round.
    let unsettled = UnsettledWrites()

    public init(pool: ConnectionPool, sender: any NoticeSender, clock: ServiceClock, secrets: SecretBox? = nil) {
        self.pool = pool
        self.sender = sender
        self.secrets = secrets
        self.clock = clock
    }

    /// Writes owed to the database since the last round that could reach it (tests watch it).
    public var owedWrites: Int { unsettled.count }

    /// Delay before attempt `attempts + 1`.
    public static func backoff(afterAttempts attempts: Int) -> TimeInterval {
        min(3600, 60 * pow(2, Double(max(0, attempts - 1))))
    }

    /// How long a claimed notice is left to its dispatcher before another may try it: longer than
    /// any send takes (the SMTP sender times out well within it), so a dispatcher that dies
    /// mid-send delays its notices by this much and no more.
    public static let claimLease: TimeInterval = 600

    /// Tries every notice that is due; returns how many were delivered and how many failed.
    /// A sealed half is claimed only by a dispatcher whose sender is the sealed channel and that
    /// holds the key: any other leaves it for one that is, so it is never written in clear.
    /// No transaction, connection or row lock is held while a sender talks to the outside: one
    /// short statement claims the due notices (moving them past the lease, so other dispatchers
    /// skip them), each is sent with nothing open, and each outcome is one more short statement.
    /// A claim whose answer was lost is released and an outcome that could not be written is
    /// written, first thing in the next round that reaches a primary: a failover then delays a
    /// notice by a round, not by the lease, and never has it sent twice.
    @discardableResult
    public func deliverDue(limit: Int = 100) async throws -> (delivered: Int, failed: Int) {
        try await unsettled.settle(on: pool)
        let now = clock.now
        let claim = RandomBytes.system(16)
        let claimed = try await unsettled.claim(releasedBy: {
            try await $0.execute("UPDATE outbox SET next_attempt_at = $2, claim = NULL WHERE claim = $1 AND delivered_at IS NULL", [claim, now])
        }) {
            try await claimDue(now: now, limit: limit, claim: claim)
        }
        var delivered = 0
        var failed = 0
        for (unopenable, notice, attempts) in claimed {
            let outcome: (sql: String, parameters: [any PostgresEncodable])
            do {
                if unopenable { throw SealedHalfError() }
                try await sender.send(notice)
                // Delivered: the sealed half is erased; the database keeps no copy of it at all.
                outcome = ("UPDATE outbox SET delivered_at = $2, attempts = $3, last_error = NULL, sealed = NULL, claim = NULL WHERE id = $1",
                           [notice.id, clock.now, attempts])
                delivered += 1
            } catch let error as NoticeSenderError {
                // Given up on: the step's output never reached the requester, a deviation for whoever queued it.
                // Guarded by the claim, so a replay after a failover records the deviation once.
                outcome = ("""
                    WITH o AS (UPDATE outbox SET attempts = $2, next_attempt_at = 'infinity', last_error = $3, sealed = NULL, claim = NULL
                               WHERE id = $1 AND claim = $5 RETURNING request_id, step, queued_by)
                    INSERT INTO request_deviations (request_id, step, kind, actor, detail, detected_at)
                    SELECT request_id, step, 'bounced_notice', coalesce(queued_by, '(system)'), 'the notice could not be delivered: ' || $3, $4
                    FROM o
                    """, [notice.id, attempts, error.description, clock.now, claim])
                failed += 1
            } catch {
                outcome = ("UPDATE outbox SET attempts = $2, next_attempt_at = $3, last_error = $4, claim = NULL WHERE id = $1 AND claim = $5",
                           [notice.id, attempts, now.addingTimeInterval(Self.backoff(afterAttempts: attempts)), String(String(describing: error).prefix(500)), claim])
                failed += 1
            }
            await unsettled.write(on: pool) { try await $0.execute(outcome.sql, outcome.parameters) }
        }
        return (delivered, failed)
    }

    /// Claims the due notices for `claim`, moving them past the lease; opens each sealed half.
    private func claimDue(now: Date, limit: Int, claim: [UInt8]) async throws -> [(Bool, OutgoingNotice, Int)] {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                WITH due AS (
                    SELECT id FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= $1
                      AND ($4 OR (step <> 6 AND sealed IS NULL))
                    ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
                UPDATE outbox o SET next_attempt_at = $3, claim = $5
                FROM due, requests r WHERE o.id = due.id AND r.id = o.request_id
                RETURNING o.id, r.number, o.step, o.recipient, o.channel, o.subject_id, o.body_id, o.subject_en, o.body_en, o.attempts, o.sealed, o.request_id
                """, [now, limit, now.addingTimeInterval(Self.claimLease), sender.isSealedChannel && secrets != nil, claim]
            ).map { row in
                // A sealed half is opened only in memory, just before the send.
                // A half that cannot be opened is never sent as a blank: the notice fails and is retried.
                let sealed = try row.decode([UInt8]?.self, column: "sealed").map { bytes -> String? in
                    guard let secrets, let opened = try? secrets.open(bytes, context: Notice.sealedContext(try row.decode(Int64.self, column: "request_id")))
                    else { return nil }
                    return String(decoding: opened, as: UTF8.self)
                }
                func fill(_ text: String) -> String {
                    guard case .some(.some(let half)) = sealed else { return text }
                    return text.replacingOccurrences(of: Notice.sealedPlaceholder, with: half)
                }
                return (sealed == .some(nil), OutgoingNotice(
                    id: try row.decode(Int64.self, column: "id"), requestNumber: try row.decode(String.self, column: "number"),
                    step: try row.decode(Int.self, column: "step"), recipient: try row.decode(String.self, column: "recipient"),
                    channel: try row.decode(String.self, column: "channel"), subjectID: try row.decode(String.self, column: "subject_id"),
                    bodyID: fill(try row.decode(String.self, column: "body_id")), subjectEN: try row.decode(String.self, column: "subject_en"),
                    bodyEN: fill(try row.decode(String.self, column: "body_en"))),
                 try row.decode(Int.self, column: "attempts") + 1)
            }.sorted { $0.1.id < $1.1.id }
        }
    }
}
