import Crypto
import Foundation
import Inputs
import Postgres

/// Throttling of password guesses (login, and the current-password check of a change), kept in
/// PostgreSQL so that every instance shares it, and decided atomically with each attempt.
///
/// Two counts per attempt (NIST SP 800-63B-4 §3.2.2, OWASP ASVS 5.0 V6.3): the user ID from one
/// client address (`failuresBeforeLockout` consecutive failures lock that pair for 1 minute,
/// doubling up to 1 hour), and the user ID from every address (`failuresBeforeAccountLock`, 100,
/// lock the user ID everywhere for an hour). An attacker at one address therefore slows only
/// themselves, and cannot lock the real user out at will; a distributed attacker meets the
/// 100-failure bound NIST sets. User IDs that do not exist are counted exactly like those that do.
public struct LoginThrottle: Sendable {
    let pool: ConnectionPool
    let settings: CredentialSettings

    public init(pool: ConnectionPool, settings: CredentialSettings) {
        self.pool = pool
        self.settings = settings
    }

    /// The two rows an attempt counts against.
    public struct Keys: Sendable, Equatable {
        public let user: String
        public let pair: String

        /// `address` nil means the local CLI, which counts as one address of its own.
        public init(userID text: String, address: String?) {
            let user = Self.digest(text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased())
            self.user = "u:" + user
            self.pair = "p:" + user + ":" + Self.digest(address ?? "local")
        }

        static func digest(_ text: String) -> String {
            Hex.encode(SHA256.hash(data: Data(text.utf8)))
        }

        /// Every pair row of this user ID, for an unlock or a reset.
        var pairPattern: String { "p:" + user.dropFirst(2) + ":%" }
    }

    public enum Reservation: Sendable, Equatable {
        /// The attempt is counted; verify the password, then `settle`.
        case reserved
        /// No attempt now: locked (or enough attempts in flight to lock) for this long.
        case locked(retryAfter: TimeInterval)
    }

    /// How long a reserved attempt counts while its verdict is awaited. Longer than any login takes
    /// (pool wait + Argon2 + statements, bounded by the statement timeout), so parallel guesses
    /// cannot outrun the count; short enough that an attempt whose verdict never came — a stalled
    /// database, a timeout, a killed process — stops counting by itself and locks nobody.
    public static let reservationLease: TimeInterval = 30

    /// The rows of `keys` locked in one order (by key) by every statement that touches both:
    /// two attempts on the same pair can never deadlock each other.
    static let lockedRows = "SELECT key FROM login_throttle WHERE key IN ($1, $2) ORDER BY key FOR UPDATE"

    /// Counts the attempt before its verification, under the rows' locks: of 30 parallel guesses
    /// only as many as the budget allows are verified at all.
    public func reserve(_ keys: Keys, at now: Date) async throws -> Reservation {
        try await pool.withRetryingTransaction(isolation: .readCommitted) { try await reserve(keys, at: now, on: $0) }
    }

    /// The same inside the caller's transaction (a login reads the account in it too).
    public func reserve(_ keys: Keys, at now: Date, on connection: PostgresConnection) async throws -> Reservation {
        var counted = CompositeStatement()
        if let wait = try await reserve(keys, at: now, thenCounting: &counted, on: connection) { return .locked(retryAfter: wait) }
        try await connection.query(counted)
        return .reserved
    }

    /// Locks both rows (creating them the first time) and judges the attempt; when it may go on,
    /// the count is added to `statement` — the caller runs it with its own parts (a login reads
    /// the account in the same statement) — and nil comes back; otherwise the wait.
    func reserve(_ keys: Keys, at now: Date, thenCounting statement: inout CompositeStatement,
                 on connection: PostgresConnection) async throws -> TimeInterval? {
        // One statement creates what is missing and locks and reads both rows, in key order (the
        // pair's "p:" sorts before the user's "u:"): the no-op update returns the row as it is.
        let rows = try await connection.query(
            """
            INSERT INTO login_throttle AS t (key, updated_at) VALUES ($2, $3), ($1, $3)
            ON CONFLICT (key) DO UPDATE SET updated_at = t.updated_at
            RETURNING key, failures, lockouts, locked_until, CASE WHEN pending_until > $3 THEN pending ELSE 0 END AS pending, pending_until
            """, [keys.user, keys.pair, now])
        var wait: TimeInterval = 0
        for row in rows {
            let key = try row.decode(String.self, column: "key")
            let failures = try row.decode(Int.self, column: "failures")
            let pending = try row.decode(Int.self, column: "pending")
            let lockouts = try row.decode(Int.self, column: "lockouts")
            let limit = key == keys.pair ? settings.failuresBeforeLockout : settings.failuresBeforeAccountLock
            if let until = try row.decode(Date?.self, column: "locked_until"), until > now {
                wait = max(wait, until.timeIntervalSince(now))
            } else if pending > 0, failures + pending >= limit {
                // Enough guesses are being verified right now to lock when they fail: wait for
                // their verdicts, at most until their lease ends.
                let leaseEnds = try row.decode(Date?.self, column: "pending_until")?.timeIntervalSince(now) ?? Self.reservationLease
                let lock = key == keys.pair ? settings.lockoutDuration(afterLockouts: lockouts + 1) : settings.maximumLockout
                wait = max(wait, max(1, min(leaseEnds, lock)))
            }
        }
        if wait > 0 { return wait }
        let at = statement.bind(now, as: "timestamptz")
        statement.add("throttle_counted", """
            UPDATE login_throttle SET pending = CASE WHEN pending_until > \(at) THEN pending + 1 ELSE 1 END,
                   pending_until = \(statement.bind(now.addingTimeInterval(Self.reservationLease), as: "timestamptz")), updated_at = \(at)
            WHERE key IN (\(statement.bind(keys.user, as: "text")), \(statement.bind(keys.pair, as: "text")))
            """)
        return nil
    }

    /// Gives back a reserved attempt that was never judged (the hashing pool refused it, the
    /// database failed): a refusal for load must not count as a guess. When even this fails, the
    /// reservation's lease ends it.
    public func release(_ keys: Keys, at now: Date) async throws {
        try await pool.withRetryingTransaction(isolation: .readCommitted) { try await release(keys, at: now, on: $0) }
    }

    /// The same inside the caller's transaction: also a right password whose second factor is
    /// still due — it is no guess, and no success either, so the count of wrong codes goes on.
    public func release(_ keys: Keys, at now: Date, on connection: PostgresConnection) async throws {
        try await connection.execute(
            """
            UPDATE login_throttle t SET pending = greatest(t.pending - 1, 0), updated_at = $3
            FROM (\(Self.lockedRows)) l WHERE t.key = l.key
            """, [keys.user, keys.pair, now])
    }

    /// What a failed attempt's settlement did.
    public struct Failure: Sendable, Equatable {
        /// Consecutive failures of the user ID from this address, this one included.
        public let consecutive: Int
        /// Set when this failure locked the pair or the user ID: for how long.
        public let lockedFor: TimeInterval?
    }

    /// Settles a reserved attempt: a success clears both counts, a failure counts and locks what
    /// reached its limit.
    public func settle(_ keys: Keys, succeeded: Bool, at now: Date) async throws -> Failure? {
        try await pool.withRetryingTransaction(isolation: .readCommitted) { try await settle(keys, succeeded: succeeded, at: now, on: $0) }
    }

    /// The same inside the caller's transaction (a login's session, a failure's audit rows).
    public func settle(_ keys: Keys, succeeded: Bool, at now: Date, on connection: PostgresConnection) async throws -> Failure? {
        if succeeded {
            var statement = CompositeStatement()
            Self.addSettledSuccess(keys, at: now, to: &statement)
            try await connection.query(statement)
            return nil
        }
        let rows = try await connection.query(
            """
            UPDATE login_throttle t SET failures = t.failures + 1, pending = greatest(t.pending - 1, 0), updated_at = $3
            FROM (\(Self.lockedRows)) l WHERE t.key = l.key
            RETURNING t.key, t.failures, t.lockouts
            """, [keys.user, keys.pair, now])
        var consecutive = 0
        var lockedFor: TimeInterval?
        for row in rows.sorted(by: { (try? $0.decode(String.self, column: "key")) ?? "" < (try? $1.decode(String.self, column: "key")) ?? "" }) {
            let key = try row.decode(String.self, column: "key")
            let failures = try row.decode(Int.self, column: "failures")
            let lockouts = try row.decode(Int.self, column: "lockouts")
            let limit = key == keys.pair ? settings.failuresBeforeLockout : settings.failuresBeforeAccountLock
            if key == keys.pair { consecutive = failures }
            guard failures >= limit else { continue }
            let duration = key == keys.pair ? settings.lockoutDuration(afterLockouts: lockouts + 1) : settings.maximumLockout
            try await connection.execute(
                "UPDATE login_throttle SET failures = 0, lockouts = lockouts + 1, locked_until = $2, updated_at = $3 WHERE key = $1",
                [key, now.addingTimeInterval(duration), now])
            lockedFor = max(lockedFor ?? 0, duration)
        }
        return Failure(consecutive: consecutive, lockedFor: lockedFor)
    }

    /// Lifts every lock and count of a user ID (an Admin PPE's unlock, a reset), in the caller's transaction.
    public static func clear(userID: String, on connection: PostgresConnection) async throws {
        let keys = Keys(userID: userID, address: nil)
        try await connection.execute("DELETE FROM login_throttle WHERE key = $1 OR key LIKE $2", [keys.user, keys.pairPattern])
    }

    /// A success's settlement as a part of the caller's statement (a login's session and audit
    /// row go in the same one): both counts cleared, the reservation given back, rows locked in
    /// key order as everywhere.
    static func addSettledSuccess(_ keys: Keys, at now: Date, to statement: inout CompositeStatement) {
        let (user, pair) = (statement.bind(keys.user, as: "text"), statement.bind(keys.pair, as: "text"))
        statement.add("throttle_settled", """
            UPDATE login_throttle t SET failures = 0, lockouts = 0, locked_until = NULL, pending = greatest(t.pending - 1, 0),
                   updated_at = \(statement.bind(now, as: "timestamptz"))
            FROM (SELECT key FROM login_throttle WHERE key IN (\(user), \(pair)) ORDER BY key FOR UPDATE) l WHERE t.key = l.key
            """)
    }

    /// The same as a part of the caller's statement.
    static func addClear(userID: String, to statement: inout CompositeStatement) {
        let keys = Keys(userID: userID, address: nil)
        statement.add("throttle_clear", "DELETE FROM login_throttle WHERE key = \(statement.bind(keys.user, as: "text")) OR key LIKE \(statement.bind(keys.pairPattern, as: "text"))")
    }
}
